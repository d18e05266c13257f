/**
 * Run by generator.test.ts as user nobody (setpriv): connect the Software generator and print the
 * error it raises as one JSON line. Not a test file itself.
 */
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { Journal } from '../../../framework/host/journal.js';
import { Host } from '../../../framework/host/host.js';
import { SoftwareGenerator } from '../../../trafficgen/software/driver.js';

const host = new Host(new CleanupStack(), new Journal(`nonroot-${process.pid}`, '/tmp/vsperf-software-test-nobody-journal'));
const g = new SoftwareGenerator(host, { calibrateS: 0 });
try {
  await g.connect([{ name: 'vsgi0', netns: 'vsg-it-a', speedMbps: 10000 }]);
  console.log(JSON.stringify({ name: 'none', code: '', message: 'connected as non-root' }));
} catch (e) {
  const err = e as Error & { code?: string };
  console.log(JSON.stringify({ name: err.name, code: err.code ?? '', message: err.message }));
} finally {
  await host.cleanup.unwind();
  host.journal.close();
}
