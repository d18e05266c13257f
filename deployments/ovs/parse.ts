/** Parsers for ovs-ofctl / ovs-appctl text output. Pure; unit-tested on captured output. */

export interface OfPortCounters {
  /** OpenFlow port number, or 'LOCAL'. */
  readonly port: number | 'LOCAL';
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly rxDropped: number;
  readonly rxErrors: number;
  readonly txPackets: number;
  readonly txBytes: number;
  readonly txDropped: number;
  readonly txErrors: number;
  /**
   * False when OVS gave no packet counts for the port (`rx pkts=?`): a vhost-user port without a
   * frontend (OVS-DPDK 3.1 reports nothing but its own drop counters then). Its counts read as 0.
   */
  readonly reported: boolean;
  /**
   * The port's custom statistics (OpenFlow 1.4+ replies: "CUSTOM Statistics"; OVS-DPDK's ovs_rx_qos_drops,
   * ovs_tx_failure_drops, …, and the device's xstats), read live like the other counters. Empty in an
   * OpenFlow 1.3 reply or for ports without them.
   */
  readonly custom: Readonly<Record<string, number>>;
}

/** `?` (unsupported by the port) counts as 0. */
function num(s: string | undefined): number {
  return s === undefined || s === '?' ? 0 : Number(s);
}

/**
 * `ovs-ofctl [-O OpenFlow14] dump-ports BR` → counters per port. An OpenFlow 1.4+ reply also carries each
 * port's custom statistics: a "CUSTOM Statistics" line, then lines of `name=value,` up to the next port.
 */
export function parseDumpPorts(text: string): OfPortCounters[] {
  const out: OfPortCounters[] = [];
  const lines = text.split('\n');
  const pairs = (s: string): Record<string, string> => Object.fromEntries([...s.matchAll(/(\w+)=([0-9?]+)/g)].map((x) => [x[1], x[2]]));
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*port\s+"?([^:"]+)"?:\s*rx\s+(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const rx = pairs(m[2]!);
    const txLine = /^\s*tx\s+(.*)$/.exec(lines[i + 1] ?? '');
    const tx = txLine ? pairs(txLine[1]!) : {};
    const custom: Record<string, number> = {};
    for (let j = i + 1, inCustom = false; j < lines.length && !/^\s*port\s/.test(lines[j]!); j++) {
      if (/^\s*CUSTOM Statistics\s*$/.test(lines[j]!)) inCustom = true;
      else if (inCustom) for (const c of lines[j]!.matchAll(/([\w.-]+)=(\d+)/g)) custom[c[1]!] = Number(c[2]);
    }
    const id = m[1]!.trim();
    out.push({
      port: id === 'LOCAL' ? 'LOCAL' : Number(id),
      rxPackets: num(rx.pkts),
      rxBytes: num(rx.bytes),
      rxDropped: num(rx.drop),
      rxErrors: num(rx.errs),
      txPackets: num(tx.pkts),
      txBytes: num(tx.bytes),
      txDropped: num(tx.drop),
      txErrors: num(tx.errs),
      reported: rx.pkts !== undefined && rx.pkts !== '?',
      custom,
    });
  }
  return out;
}

/** `ovs-ofctl dump-flows BR` → one line per flow, header dropped, volatile `duration=` removed. */
export function parseDumpFlows(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(OFPST_FLOW|NXST_FLOW)/.test(l))
    .map((l) => l.replace(/\s*duration=[0-9.]+s,/, ''));
}

export interface PmdStats {
  /** e.g. "pmd thread numa_id 0 core_id 1" or "main thread". */
  readonly thread: string;
  readonly packetsReceived: number;
  readonly idlePct?: number;
  readonly processingPct?: number;
  readonly avgCyclesPerPacket?: number;
  readonly avgProcessingCyclesPerPacket?: number;
  readonly emcHits?: number;
  readonly megaflowHits?: number;
  readonly missWithSuccessUpcall?: number;
}

/** `ovs-appctl dpif-netdev/pmd-stats-show` → one entry per thread. */
export function parsePmdStats(text: string): PmdStats[] {
  const out: PmdStats[] = [];
  let cur: Record<string, number> | undefined;
  let thread = '';
  const flush = (): void => {
    if (!cur) return;
    out.push({
      thread,
      packetsReceived: cur['packets received'] ?? 0,
      ...(cur['idle cycles%'] !== undefined ? { idlePct: cur['idle cycles%'] } : {}),
      ...(cur['processing cycles%'] !== undefined ? { processingPct: cur['processing cycles%'] } : {}),
      ...(cur['avg cycles per packet'] !== undefined ? { avgCyclesPerPacket: cur['avg cycles per packet'] } : {}),
      ...(cur['avg processing cycles per packet'] !== undefined ? { avgProcessingCyclesPerPacket: cur['avg processing cycles per packet'] } : {}),
      ...(cur['emc hits'] !== undefined ? { emcHits: cur['emc hits'] } : {}),
      ...(cur['megaflow hits'] !== undefined ? { megaflowHits: cur['megaflow hits'] } : {}),
      ...(cur['miss with success upcall'] !== undefined ? { missWithSuccessUpcall: cur['miss with success upcall'] } : {}),
    });
  };
  for (const raw of text.split('\n')) {
    const head = /^(pmd thread.*|main thread):\s*$/.exec(raw.trim());
    if (head && !/^\s/.test(raw)) {
      flush();
      thread = head[1]!;
      cur = {};
      continue;
    }
    const kv = /^\s+([a-z. ]+?):\s+([0-9.]+)(?:\s+\(([0-9.]+)%\))?/.exec(raw);
    if (kv && cur) {
      cur[kv[1]!] = Number(kv[2]);
      if (kv[3] !== undefined) cur[`${kv[1]}%`] = Number(kv[3]);
    }
  }
  flush();
  return out;
}

/** First line of `ovs-vswitchd --version` → "3.1.0"; a "DPDK x.y" line → dpdk. */
export function parseVersion(text: string): { ovs?: string; dpdk?: string } {
  const ovs = /\(Open vSwitch\)\s+(\S+)/.exec(text)?.[1];
  const dpdk = /DPDK\s+(\d[\w.]*)/.exec(text)?.[1];
  return { ...(ovs ? { ovs } : {}), ...(dpdk ? { dpdk } : {}) };
}

export interface PmdRxq {
  /** The PMD's CPU (core_id). */
  readonly core: number;
  readonly port: string;
  readonly queue: number;
  readonly enabled: boolean;
  /** The share of the PMD's cycles this queue took (last 60 s); undefined = "NOT AVAIL". */
  readonly usagePct?: number;
}

/** `ovs-appctl dpif-netdev/pmd-rxq-show` → one entry per RX queue: which PMD polls which queue of which port. */
export function parsePmdRxq(text: string): PmdRxq[] {
  const out: PmdRxq[] = [];
  let core: number | undefined;
  for (const line of text.split('\n')) {
    const head = /^pmd thread numa_id \d+ core_id (\d+):/.exec(line);
    if (head) {
      core = Number(head[1]);
      continue;
    }
    const q = /^\s+port:\s+(\S+)\s+queue-id:\s+(\d+)\s+\((enabled|disabled)\)\s+pmd usage:\s+(?:(\d+) %|NOT AVAIL)/.exec(line);
    if (q && core !== undefined)
      out.push({ core, port: q[1]!, queue: Number(q[2]), enabled: q[3] === 'enabled', ...(q[4] !== undefined ? { usagePct: Number(q[4]) } : {}) });
  }
  return out;
}

/**
 * A port's policy drops from its custom statistics (OVS-DPDK's ovs_rx_qos_drops / ovs_tx_qos_drops);
 * undefined when it has neither (not an OVS-DPDK port, or an OpenFlow 1.3 reply).
 */
export function policerDropsOf(custom: Readonly<Record<string, number>>): { rx: number; tx: number } | undefined {
  const rx = custom.ovs_rx_qos_drops;
  const tx = custom.ovs_tx_qos_drops;
  return rx === undefined && tx === undefined ? undefined : { rx: rx ?? 0, tx: tx ?? 0 };
}

/** `ovs-vsctl --format=json --columns=name,type list Interface` → each interface's type by name. */
export function parseInterfaceTypes(json: string): Map<string, string> {
  const doc = JSON.parse(json) as { headings?: string[]; data?: unknown[][] };
  const name = doc.headings?.indexOf('name') ?? -1;
  const type = doc.headings?.indexOf('type') ?? -1;
  const out = new Map<string, string>();
  if (name < 0 || type < 0) return out;
  for (const row of doc.data ?? []) if (typeof row[name] === 'string' && typeof row[type] === 'string') out.set(row[name], row[type]);
  return out;
}

/** `ps -L -o tid=,comm= -p PID` → the ids of the threads whose name starts with `prefix` (OVS-DPDK's PMDs: `pmd-c01/id:8`). */
export function parseThreadIds(text: string, prefix: string): { tid: number; comm: string }[] {
  return text
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\S.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && m[2]!.startsWith(prefix))
    .map((m) => ({ tid: Number(m[1]), comm: m[2]!.trim() }));
}

/** /proc/PID/task/TID/schedstat: time on a CPU and time runnable but waiting for one (ns). */
export function parseSchedstat(text: string): { runNs: number; waitNs: number } | undefined {
  const m = /^(\d+)\s+(\d+)/.exec(text.trim());
  return m ? { runNs: Number(m[1]), waitNs: Number(m[2]) } : undefined;
}
