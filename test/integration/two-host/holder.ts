/**
 * Child process for the SIGKILL test: builds the two-host sandbox, starts a process and a directory on
 * hostB over SSH, prints READY with what it made, then waits to be SIGKILLed (only the journal remains).
 * argv: [tag] [run id] [journal dir]
 */
import { Host } from '../../../framework/host/host.js';
import { Journal } from '../../../framework/host/journal.js';
import { RemoteHost } from '../../../framework/host/remote-host.js';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { createTwoHostSandbox } from '../../../deployments/testbed/two-host.js';

const [tag, runId, journalDir] = process.argv.slice(2) as [string, string, string];
const host = new Host(new CleanupStack(), new Journal(runId, journalDir));
const sb = await createTwoHostSandbox(host, tag);
const b = new RemoteHost(sb.hosts[1]!, host, sb.dir);
await b.connect();
const dir = `/tmp/vs2-${tag}-remote-dir`;
await b.makeDir(dir);
const p = await b.spawn(['sleep', '1000']);
process.stdout.write(`READY ${JSON.stringify({ pid: p.pid, dir })}\n`);
setInterval(() => undefined, 1000);
