/**
 * VSPERF's `namespace` and `veth` step objects (tools/namespace.py, tools/veth.py): network namespaces
 * and veth pairs made with iproute2 argv. What a step creates is journalled and on the cleanup stack
 * like every other host resource, so the testcase's teardown (or the janitor after a crash) removes it,
 * as VSPERF's testcase cleanup removes what its /tmp/namespaces and /tmp/veth marker files name.
 * Validations read the kernel's view again (`ip netns list`, `ip -o link/addr`), never our bookkeeping.
 */
import { VsperfError } from '../errors.js';
import { exec } from '../host/exec.js';
import type { Host } from '../host/host.js';
import type { JournalEntry } from '../host/journal.js';
import { pyStr, pyTruthy, type PyValue } from './pyvalue.js';
import type { StepTarget } from './types.js';

/** `ip netns` names a file under /run/netns: no slash, no dot-only names. */
const NETNS_NAME = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,64}$/;
/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no slash, colon or white space. */
const IFNAME = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,15}$/;

function param(method: string, what: string, v: PyValue | undefined, re: RegExp, rule: string): string {
  const s = v === undefined || v === null ? '' : pyStr(v);
  if (!re.test(s)) throw new VsperfError('E_STEP_PARAM', `${method}: ${what} ${JSON.stringify(s)} is not valid (${rule})`);
  return s;
}

const nsName = (m: string, v: PyValue | undefined): string => param(m, 'namespace name', v, NETNS_NAME, '1-64 letters, digits, "_", "-" or "."');
const ifName = (m: string, v: PyValue | undefined): string => param(m, 'interface name', v, IFNAME, '1-15 letters, digits, "_", "-" or "."');

/** `addr/cidr` as `ip addr add` takes it: an IPv4 or IPv6 address and a prefix length that fits it. */
function ipCidr(method: string, addr: PyValue | undefined, cidr: PyValue | undefined): string {
  const a = addr === undefined || addr === null ? '' : pyStr(addr);
  const c = cidr === undefined || cidr === null ? '' : pyStr(cidr);
  const v4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(a);
  const v6 = !v4 && /^[0-9A-Fa-f:.]+$/.test(a) && a.includes(':');
  const bits = /^\d{1,3}$/.test(c) ? Number(c) : NaN;
  if (!v4 && !v6) throw new VsperfError('E_STEP_PARAM', `${method}: ${JSON.stringify(a)} is not an IPv4 or IPv6 address`);
  if (!(bits >= 0 && bits <= (v4 ? 32 : 128))) throw new VsperfError('E_STEP_PARAM', `${method}: prefix length ${JSON.stringify(c)} is not 0-${v4 ? 32 : 128}`);
  return `${a}/${bits}`;
}

/** Namespaces that exist on the host (`ip netns list` prints `name` or `name (id: N)`). */
export async function systemNamespaces(): Promise<string[]> {
  const out = (await exec(['ip', 'netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Interfaces of a namespace (undefined: ours) with their flags and addresses, from `ip -o`. */
async function links(netns: string | undefined): Promise<Map<string, string[]>> {
  const pre = netns ? ['ip', '-n', netns] : ['ip'];
  const out = (await exec([...pre, '-o', 'link', 'show'])).stdout;
  const m = new Map<string, string[]>();
  // "7: veth0@veth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 …"
  for (const l of out.split('\n')) {
    const x = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>/.exec(l);
    if (x) m.set(x[1]!, x[2]!.split(','));
  }
  return m;
}

async function addresses(netns: string, dev: string): Promise<string[]> {
  const out = (await exec(['ip', '-n', netns, '-o', 'addr', 'show', 'dev', dev], { allowFail: true })).stdout;
  return [...out.matchAll(/\binet6?\s+(\S+)/g)].map((x) => x[1]!);
}

export class NetnsSteps {
  /** Namespaces created by steps → their release (journal + cleanup stack). */
  private readonly namespaces = new Map<string, () => Promise<void>>();
  /** veth pairs created by steps, by first port → release; `netns`: where that port lives now. */
  private readonly veths = new Map<string, { entry: JournalEntry & { kind: 'link' }; release: () => Promise<void>; netns?: string }>();

  constructor(private readonly host: Host) {}

  namespace(): StepTarget {
    return {
      call: (method, args) => this.namespaceCall(method, args),
      canValidate: () => true,
      validate: (method, _result, args) => this.namespaceValidate(method, args),
    };
  }

  veth(): StepTarget {
    return {
      call: (method, args) => this.vethCall(method, args),
      canValidate: () => true,
      validate: (method, _result, args) => this.vethValidate(method, args),
    };
  }

  private async namespaceCall(method: string, a: readonly PyValue[]): Promise<PyValue> {
    switch (method) {
      case 'create_namespace': {
        const name = nsName(method, a[0]);
        // As VSPERF: an existing namespace is an error, never adopted (its cleanup would delete it).
        if ((await systemNamespaces()).includes(name)) throw new VsperfError('E_STEP_NETNS', `create_namespace: namespace ${name} already exists on this host`);
        this.namespaces.set(name, await this.host.createNetns(name));
        return null;
      }
      case 'delete_namespace': {
        const name = nsName(method, a[0]);
        const mine = this.namespaces.get(name);
        this.namespaces.delete(name);
        // Ports of ours inside it go with it: the kernel destroys veths whose namespace is deleted.
        for (const [port, v] of this.veths) if (v.netns === name) this.veths.delete(port);
        if (mine) await mine();
        else await exec(['ip', 'netns', 'del', name]);
        return null;
      }
      case 'assign_port_to_namespace': {
        const port = ifName(method, a[0]);
        const name = nsName(method, a[1]);
        await exec(['ip', 'link', 'set', 'dev', port, 'netns', name]);
        this.movedVeth(port, name);
        if (a[2] !== undefined && pyTruthy(a[2])) await exec(['ip', '-n', name, 'link', 'set', 'dev', port, 'up']);
        return null;
      }
      case 'add_ip_to_namespace_eth': {
        const port = ifName(method, a[0]);
        const name = nsName(method, a[1]);
        await exec(['ip', '-n', name, 'addr', 'add', ipCidr(method, a[2], a[3]), 'dev', port]);
        return null;
      }
      case 'reset_port_to_root': {
        const port = ifName(method, a[0]);
        const name = nsName(method, a[1]);
        // VSPERF moves it to PID 1's namespace; ours is the one vsperf runs in (the same on a host,
        // not in a container).
        await exec(['ip', '-n', name, 'link', 'set', 'dev', port, 'netns', String(process.pid)]);
        this.movedVeth(port, undefined);
        return null;
      }
      default:
        throw new VsperfError('E_STEP_UNSUPPORTED', `namespace ${method} is not supported`);
    }
  }

  private async namespaceValidate(method: string, a: readonly PyValue[]): Promise<boolean> {
    const name = pyStr(a[method === 'create_namespace' || method === 'delete_namespace' ? 0 : 1] ?? null);
    const exists = (await systemNamespaces()).includes(name);
    switch (method) {
      case 'create_namespace':
        return exists;
      case 'delete_namespace':
        return !exists;
      case 'assign_port_to_namespace':
        return exists && (await links(name)).has(pyStr(a[0] ?? null));
      case 'reset_port_to_root':
        return (await links(undefined)).has(pyStr(a[0] ?? null)) && !(exists && (await links(name)).has(pyStr(a[0] ?? null)));
      case 'add_ip_to_namespace_eth':
        return exists && (await addresses(name, pyStr(a[0] ?? null))).includes(ipCidr(method, a[2], a[3]));
      default:
        return false;
    }
  }

  private async vethCall(method: string, a: readonly PyValue[]): Promise<PyValue> {
    switch (method) {
      case 'add_veth_port': {
        const port = ifName(method, a[0]);
        const peer = ifName(method, a[1]);
        // Left down, as VSPERF's add_veth_port leaves it (bring_up_eth_port is a step of its own).
        await exec(['ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', peer]);
        const entry = { kind: 'link' as const, id: this.host.journal.nextId('link'), name: port };
        const v: { entry: typeof entry; release: () => Promise<void>; netns?: string } = { entry, release: async () => {} };
        v.release = this.host.track(entry, `ip link del ${port}`, async () => {
          await exec([...(v.netns ? ['ip', '-n', v.netns] : ['ip']), 'link', 'del', 'dev', port], { allowFail: true });
        });
        this.veths.set(port, v);
        return null;
      }
      case 'del_veth_port': {
        const port = ifName(method, a[0]);
        ifName(method, a[1]);
        const mine = this.veths.get(port);
        if (mine) {
          this.veths.delete(port);
          await mine.release();
        } else await exec(['ip', 'link', 'del', 'dev', port]);
        return null;
      }
      case 'bring_up_eth_port': {
        const port = ifName(method, a[0]);
        const ns = a[1] !== undefined && a[1] !== null && a[1] !== '' ? nsName(method, a[1]) : undefined;
        await exec([...(ns ? ['ip', '-n', ns] : ['ip']), 'link', 'set', 'dev', port, 'up']);
        return null;
      }
      default:
        throw new VsperfError('E_STEP_UNSUPPORTED', `veth ${method} is not supported`);
    }
  }

  private async vethValidate(method: string, a: readonly PyValue[]): Promise<boolean> {
    const here = await links(undefined);
    const port = pyStr(a[0] ?? null);
    switch (method) {
      case 'add_veth_port':
        return here.has(port) && here.has(pyStr(a[1] ?? null));
      case 'del_veth_port':
        return !here.has(port) && !here.has(pyStr(a[1] ?? null));
      case 'bring_up_eth_port': {
        // The administrative state the step set (flag UP). VSPERF reads operstate, which also says
        // "lowerlayerdown" for a veth whose peer is still down although the step did what it says.
        const ns = a[1] !== undefined && a[1] !== null && a[1] !== '' ? pyStr(a[1]) : undefined;
        const flags = (ns ? await links(ns) : here).get(port);
        return flags !== undefined && flags.includes('UP');
      }
      default:
        return false;
    }
  }

  /** Keep the janitor's record of a veth of ours where the port now lives. */
  private movedVeth(port: string, netns: string | undefined): void {
    const v = this.veths.get(port);
    if (!v) return;
    if (netns === undefined) delete v.netns;
    else v.netns = netns;
    // The same id again: the journal keeps the latest record of an id.
    this.host.journal.add(netns === undefined ? v.entry : { ...v.entry, netns });
  }
}
