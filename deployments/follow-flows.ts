/**
 * Traffic follows the guest: every flow that outputs to one of the guest's vhost ports also outputs to
 * the matching port of the migration destination, and every flow matching a guest port as in_port is
 * duplicated for the destination's port. OVS then delivers to whichever QEMU runs the guest (the other
 * port's link is down, so nothing is sent twice), with no flow change at switch-over. Pure: works on
 * `ovs-ofctl dump-flows` lines.
 */

/** Statistic and volatile fields of a dumped flow that add-flow must not get. */
const VOLATILE = /^(cookie|duration|n_packets|n_bytes|idle_age|hard_age)=/;

export interface ParsedFlow {
  /** Match part incl. table/priority (comma separated, no statistics). */
  readonly match: string;
  readonly actions: string;
}

export function parseFlowLine(line: string): ParsedFlow | undefined {
  const i = line.indexOf('actions=');
  if (i < 0) return undefined;
  const head = line.slice(0, i).trim().replace(/,$/, '');
  const actions = line.slice(i + 'actions='.length).trim();
  const fields = head
    .split(/[,\s]+/)
    .map((f) => f.trim())
    .filter((f) => f && !VOLATILE.test(f) && f !== 'reset_counts');
  return { match: fields.join(','), actions };
}

function portKey(v: string): string {
  return v.replace(/^"|"$/g, '');
}

/**
 * Flows (ovs-ofctl syntax) to add so traffic reaches and leaves the destination ports too.
 * `pairs` maps a source port (ofport number or port name) to the destination ofport.
 */
export function followFlows(lines: readonly string[], pairs: ReadonlyMap<string, number>): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const f = parseFlowLine(line);
    if (!f) continue;
    const actions = f.actions.replace(/(^|,)output:("?[^,"]+"?)/g, (all, sep: string, port: string) => {
      const d = pairs.get(portKey(port));
      return d === undefined ? all : `${sep}output:${port},output:${d}`;
    });
    if (actions !== f.actions) out.push(`${f.match} actions=${actions}`);
    const m = /(^|,)in_port=("?[^,"]+"?)/.exec(f.match);
    const d = m ? pairs.get(portKey(m[2]!)) : undefined;
    if (m && d !== undefined) out.push(`${f.match.replace(/(^|,)in_port=("?[^,"]+"?)/, `$1in_port=${d}`)} actions=${actions}`);
  }
  return out;
}
