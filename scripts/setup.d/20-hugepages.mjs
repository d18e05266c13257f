// Hugepages for OVS-DPDK (≈128–505 × 2 MiB, see testbed notes) and testpmd. We only ever raise the count.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';

const WANT = Number(process.env.VSPERF_HUGEPAGES || 1024);
const nr = () => Number(readFileSync('/proc/sys/vm/nr_hugepages', 'utf8').trim());
const mounted = () =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[2] === 'hugetlbfs');

export const title = `hugepages (${WANT} x 2 MiB, hugetlbfs mounted)`;
export async function check() {
  return nr() >= WANT && mounted();
}
export async function run(ctx) {
  if (nr() < WANT) writeFileSync('/proc/sys/vm/nr_hugepages', String(WANT));
  if (nr() < WANT) ctx.log(`warning: only ${nr()} hugepages could be reserved`);
  if (!mounted()) {
    mkdirSync('/dev/hugepages', { recursive: true });
    ctx.sh(['mount', '-t', 'hugetlbfs', 'nodev', '/dev/hugepages']);
  }
}
