/**
 * Run by generator.test.ts: start a long AF_XDP trial and print the engine's pid, then wait to be
 * SIGKILLed. The test checks that the engine does not outlive us. Not a test file itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { Journal } from '../../../framework/host/journal.js';
import { Host } from '../../../framework/host/host.js';
import { SoftwareGenerator, calibrationSpec } from '../../../trafficgen/software/driver.js';

function childPids(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

const [ifA, nsA, ifB, nsB] = process.argv.slice(2) as [string, string, string, string];
const host = new Host(new CleanupStack(), new Journal(`orphan-probe-${process.pid}`));
const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'af_xdp', progressMs: 100 });
await g.connect([
  { name: ifA, netns: nsA, speedMbps: 10000 },
  { name: ifB, netns: nsB, speedMbps: 10000 },
]);
let told = false;
await g.runTrial({ ...calibrationSpec(64), rate: { unit: 'fps', value: 10000 }, durationS: 60 }, undefined, () => {
  if (told) return;
  told = true;
  console.log(JSON.stringify({ enginePids: childPids() }));
});
