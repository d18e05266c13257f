/** The VSwitch conformance kit on OvsVanilla, its ports the switch ends of two veth pairs in a namespace of their own. */
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeVSwitch } from '../../../framework/conformance/index.js';
import { exec } from '../../../framework/host/exec.js';
import { testSettings } from './helpers.js';
import { hostContext } from '../../helpers/driver-context.js';

const NS = { gen: 'vsc-gen', sw: 'vsc-sw' };

describeVSwitch('OvsVanilla', async () => {
  const t = hostContext(testSettings({ VSWITCH: 'OvsVanilla' }), {
    runId: `vsc-${process.pid}`,
    journalDir: join(tmpdir(), 'vsc-journal'),
    workDirPrefix: 'vsc',
  });
  const host = t.ctx.host;
  for (const ns of Object.values(NS)) await host.createNetns(ns);
  for (const i of [0, 1]) await host.createVethPair(`vscg${i}`, `vscs${i}`, { aNetns: NS.gen, bNetns: NS.sw });
  const vswitch = await t.ctx.create('vswitch', 'OvsVanilla');
  vswitch.useNetns?.(NS.sw);
  return {
    vswitch,
    ports: [
      { kind: 'veth', iface: 'vscs0', io: 'af_packet' },
      { kind: 'veth', iface: 'vscs1', io: 'af_packet' },
    ],
    // socat writes one frame per read of -b bytes: a file of N identical 60-byte frames is N frames.
    inject: async (index, frames) => {
      const frame = Buffer.alloc(60);
      frame.fill(0xff, 0, 6);
      Buffer.from([0x02, 0, 0, 0, 0, 1, 0x08, 0x00]).copy(frame, 6);
      const file = join(t.workDir, 'frames.bin');
      writeFileSync(file, Buffer.concat(Array.from({ length: frames }, () => frame)));
      await exec(['ip', 'netns', 'exec', NS.gen, 'socat', '-u', '-b', '60', `OPEN:${file}`, `INTERFACE:vscg${index}`]);
    },
    close: async () => {
      await t.cleanup.unwind();
      t.journal.close();
      rmSync(t.workDir, { recursive: true, force: true });
    },
  };
});
