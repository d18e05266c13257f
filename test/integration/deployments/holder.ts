/**
 * Child process for the crash test: sets up a deployment, prints READY with its facts, then waits to be
 * SIGKILLed (so no cleanup runs and only the journal remains for the janitor).
 * argv: [overrides JSON] [run id] [deployment]
 */
import { makeCtx } from './helpers.js';

const t = makeCtx(JSON.parse(process.argv[2] ?? '{}'), process.argv[3]);
const factory = await t.registry.create('deployment', process.argv[4] ?? 'p2p', t.ctx);
const dep = await factory.build(t.ctx);
const topo = await dep.setup(t.ctx.signal);
process.stdout.write(`READY ${JSON.stringify({ netns: topo.generatorPorts[0]!.netns, workDir: t.workDir, bridge: topo.bridge })}\n`);
setInterval(() => undefined, 1000);
