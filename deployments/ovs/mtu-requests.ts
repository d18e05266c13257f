/**
 * MTU requests in an `ovs-vsctl` command line. OVS-DPDK applies an Interface's `mtu_request` after
 * ovs-vsctl has returned (the port is reconfigured later in the daemon's main loop): a step that reads
 * `get Interface X mtu` right after `set Interface X mtu_request=N` can still see the old MTU (measured
 * here: 1500 at once, N about 100 ms later). VSPERF's jumbo testcases do exactly that.
 */
export interface MtuRequest {
  readonly iface: string;
  readonly mtu: number;
}

/** The `set Interface NAME … mtu_request=N` parts of an ovs-vsctl argv (any prefix such as `ip netns exec NS`). */
export function mtuRequests(argv: readonly string[]): MtuRequest[] {
  const start = argv.findIndex((a) => a === 'ovs-vsctl' || a.endsWith('/ovs-vsctl'));
  if (start < 0) return [];
  const out: MtuRequest[] = [];
  // ovs-vsctl commands are separated by `--`; options (`--db=…`, `--timeout=5`) start with `--` too.
  const commands: string[][] = [[]];
  for (const a of argv.slice(start + 1)) {
    if (a === '--') commands.push([]);
    else if (!a.startsWith('--')) commands[commands.length - 1]!.push(a);
  }
  for (const [verb, table, record, ...cols] of commands) {
    if (verb !== 'set' || !table || !/^interface$/i.test(table) || !record) continue;
    for (const c of cols) {
      const m = /^mtu_request=(\d+)$/.exec(c);
      if (m) out.push({ iface: record, mtu: Number(m[1]) });
    }
  }
  return out;
}
