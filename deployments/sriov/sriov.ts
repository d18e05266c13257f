/**
 * SR-IOV through sysfs, as VSPERF does it (tools/networkcard.py, vsperf enable_sriov), without shell
 * strings: VFs are created with `sriov_numvfs`, configured (MAC, VLAN, spoof check) with `ip link set
 * PF vf N …`, and bound to vfio-pci via `driver_override` + unbind/bind. Every change is journalled
 * and undone at teardown (VF count restored, original driver re-bound). The sysfs root is
 * configurable (SRIOV_SYSFS_ROOT) so the logic is tested against a fake tree.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError, DriverError, EnvironmentError } from '../../framework/errors.js';
import { PCI_ADDRESS_RE, PciBinder, type PciBinderOptions } from '../../framework/host/pci.js';
import { isMac } from '../../framework/util/net-address.js';

/** One WHITELIST_NICS entry: `0000:05:00.0`, `05:00.0`, or with a VF `0000:05:00.0|vf1`. */
export interface NicRef {
  readonly raw: string;
  /** PF (or plain NIC) PCI address with domain. */
  readonly pci: string;
  readonly vf?: number;
}

/** VSPERF's check_pci: add the `0000:` domain to a 7-character slot, shorten over-long ones. */
export function checkPci(slot: string): string {
  if (slot.length === 12) return slot;
  if (slot.length === 7) return `0000:${slot}`;
  if (slot.length > 12) return slot.slice(-12);
  return slot;
}

export function parseNic(entry: string, source = 'WHITELIST_NICS'): NicRef {
  const parts = entry.trim().split('|');
  const pci = checkPci(parts[0]!.trim()).toLowerCase();
  if (!PCI_ADDRESS_RE.test(pci))
    throw new ConfigError('WHITELIST_NICS', source, `"${entry}" is not a PCI address (expected 0000:05:00.0 or 05:00.0, optionally |vfN)`);
  if (parts.length === 1) return { raw: entry, pci };
  const m = /^vf(\d+)$/i.exec(parts[1]!.trim());
  if (parts.length > 2 || !m) throw new ConfigError('WHITELIST_NICS', source, `"${entry}": only a "|vfN" suffix is supported`);
  return { raw: entry, pci, vf: Number(m[1]) };
}

export interface VfConfig {
  readonly mac?: string;
  readonly vlan?: number;
  readonly spoofchk?: boolean;
}

export type SriovOptions = PciBinderOptions;

/** VFs of a PF (count, MAC, VLAN, spoof check) on top of the journalled binding of PciBinder. */
export class Sriov extends PciBinder {
  private readInt(path: string): number {
    return Number(readFileSync(path, 'utf8').trim());
  }

  isSupported(pf: string): boolean {
    return existsSync(this.dev(pf, 'sriov_totalvfs'));
  }

  numVfs(pf: string): number {
    return this.readInt(this.dev(pf, 'sriov_numvfs'));
  }

  totalVfs(pf: string): number {
    return this.readInt(this.dev(pf, 'sriov_totalvfs'));
  }

  /** PCI address of VF `index` of `pf` (the virtfnN link). */
  vfPci(pf: string, index: number): string {
    const link = this.dev(pf, `virtfn${index}`);
    if (!existsSync(link)) throw new DriverError('sriov', 'resolve VF', `${pf} has no VF ${index} (${link} missing)`);
    return basename(readlinkSync(link));
  }

  /** Netdev name of a device (when bound to a kernel net driver). */
  netdev(pci: string): string | undefined {
    const p = this.dev(pci, 'net');
    if (!existsSync(p)) return undefined;
    return readdirSync(p)[0];
  }

  /**
   * Make sure `pf` has at least `count` VFs. Changing a non-zero count needs a 0 in between (kernel
   * rule). The old count is restored at teardown.
   */
  async ensureVfs(pf: string, count: number): Promise<void> {
    if (!this.exists(pf)) throw new EnvironmentError(`PCI device ${pf} not found under ${join(this.root, 'bus/pci/devices')}`);
    if (!this.isSupported(pf)) throw new EnvironmentError(`${pf} does not support SR-IOV (no sriov_totalvfs)`);
    const total = this.totalVfs(pf);
    if (count > total) throw new EnvironmentError(`${pf} supports ${total} VFs, ${count} needed`);
    const old = this.numVfs(pf);
    if (old >= count) return;
    const path = this.dev(pf, 'sriov_numvfs');
    if (old !== 0) writeFileSync(path, '0');
    writeFileSync(path, String(count));
    this.log.info(`sriov: ${pf} VFs ${old} → ${count}`);
    this.journalled(path, String(old), `restore ${pf} sriov_numvfs=${old}`, () => {
      writeFileSync(path, '0');
      if (old !== 0) writeFileSync(path, String(old));
    });
  }

  /** MAC / VLAN / spoof check of a VF, set on its PF with `ip link set PF vf N …`. */
  async configureVf(pf: string, index: number, cfg: VfConfig): Promise<void> {
    const args: string[] = [];
    if (cfg.mac) {
      if (!isMac(cfg.mac)) throw new ConfigError('SRIOV_VF_MACS', 'settings', `"${cfg.mac}" is not a MAC address`);
      args.push('mac', cfg.mac);
    }
    if (cfg.vlan !== undefined && cfg.vlan > 0) {
      if (!Number.isInteger(cfg.vlan) || cfg.vlan > 4094) throw new ConfigError('SRIOV_VF_VLAN', 'settings', `VLAN id must be 1..4094, got ${cfg.vlan}`);
      args.push('vlan', String(cfg.vlan));
    }
    if (cfg.spoofchk !== undefined) args.push('spoofchk', cfg.spoofchk ? 'on' : 'off');
    if (!args.length) return;
    const dev = this.netdev(pf);
    if (!dev) throw new EnvironmentError(`PF ${pf} has no netdev (bind it to its kernel driver to configure VFs)`);
    await this.runCmd(['ip', 'link', 'set', 'dev', dev, 'vf', String(index), ...args]);
  }
}

export interface ResolvedNic {
  readonly ref: NicRef;
  /** PCI address to use: the NIC itself or the VF. */
  readonly pci: string;
}

/**
 * WHITELIST_NICS → PCI addresses to use, creating VFs where `|vfN` asks for them (VSPERF creates
 * max(N)+1 VFs per PF), setting VF MAC/VLAN/spoof check, and binding each used device to `driver`.
 */
export async function resolveNics(
  sriov: Sriov,
  entries: readonly string[],
  o: { driver?: string; macs?: readonly string[]; vlan?: number; spoofchk?: boolean; source?: string },
): Promise<ResolvedNic[]> {
  const refs = entries.map((e) => parseNic(e, o.source));
  const maxVf = new Map<string, number>();
  for (const r of refs) if (r.vf !== undefined) maxVf.set(r.pci, Math.max(maxVf.get(r.pci) ?? -1, r.vf));
  for (const [pf, vf] of maxVf) await sriov.ensureVfs(pf, vf + 1);
  const out: ResolvedNic[] = [];
  for (const [i, r] of refs.entries()) {
    if (r.vf === undefined) {
      if (!sriov.exists(r.pci)) throw new EnvironmentError(`PCI device ${r.pci} (WHITELIST_NICS[${i}]) not found`);
      out.push({ ref: r, pci: r.pci });
      continue;
    }
    const mac = o.macs?.[i];
    await sriov.configureVf(r.pci, r.vf, {
      ...(mac ? { mac } : {}),
      ...(o.vlan ? { vlan: o.vlan } : {}),
      ...(o.spoofchk !== undefined ? { spoofchk: o.spoofchk } : {}),
    });
    out.push({ ref: r, pci: sriov.vfPci(r.pci, r.vf) });
  }
  if (o.driver) for (const n of out) await sriov.bind(n.pci, o.driver);
  return out;
}
