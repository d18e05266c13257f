/**
 * `vsperf-gen`: run the Software generator on its own. One port by default (send on it and count what
 * comes back on it), or a pair with --rx-interface. Prints the trial's counters as JSON on stdout;
 * live counters go to stderr with --progress.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { CleanupStack } from '../../framework/runner/cleanup-stack.js';
import { Journal } from '../../framework/host/journal.js';
import { Host } from '../../framework/host/host.js';
import { isVsperfError } from '../../framework/errors.js';
import type { PortSpec, Rate, TrialResult, TrialSpec } from '../../framework/api/trafficgen.js';
import { SoftwareGenerator, calibrationSpec } from './driver.js';
import type { Backend } from './protocol.js';

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function integer(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

/** '10000', '1.5M', '250k' (frames per second) or '50%' (of line rate). */
export function parseRate(v: string): Rate {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(%|k|K|M)?\s*(fps|pps)?\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError('use frames per second (10000, 250k, 1.5M) or percent of line rate (50%)');
  const n = Number(m[1]);
  if (m[2] === '%') return { unit: 'pct', value: n };
  return { unit: 'fps', value: n * (m[2] === 'k' || m[2] === 'K' ? 1e3 : m[2] === 'M' ? 1e6 : 1) };
}

function backend(v: string): Backend {
  if (v !== 'auto' && v !== 'af_packet' && v !== 'af_xdp') throw new InvalidArgumentError('one of auto, af_packet, af_xdp');
  return v;
}

export function buildCommand(): Command {
  return new Command('vsperf-gen')
    .description(
      'Send frames on an interface with the vsperf-ts software generator engine and print the counters as JSON.\n' +
        'One port: frames are sent on --interface and counted when they come back on it (e.g. a loopback).\n' +
        'Two ports: add --rx-interface to count them there. Needs root.',
    )
    .requiredOption('-i, --interface <name>', 'interface to send on')
    .option('-n, --netns <name>', 'network namespace of --interface')
    .option('--rx-interface <name>', 'interface to count received frames on (default: --interface)')
    .option('--rx-netns <name>', 'network namespace of --rx-interface (default: --netns)')
    .option('-s, --frame-size <bytes>', 'frame size including the 4-byte FCS (RFC 2544: 64..9018)', integer, 64)
    .addOption(
      new Option('-r, --rate <rate>', 'frames per second (10000, 250k, 1.5M) or percent of line rate (50%)')
        .argParser(parseRate)
        .default({ unit: 'fps', value: 10_000 }, '10000 fps'),
    )
    .option('-d, --duration <s>', 'traffic duration in seconds', positive)
    .option('-f, --frames <n>', 'send exactly this many frames instead of a duration', integer)
    .option('--speed-mbps <n>', 'port line speed for percent rates and the line-rate check (Mbit/s)', positive, 10_000)
    .option('-b, --backend <name>', 'I/O backend: auto (AF_XDP when it works), af_packet, af_xdp', backend, 'auto' as Backend)
    .option('--bidir', 'also send from the second port back to the first (needs --rx-interface)', false)
    .option('--multistream <n>', 'number of flows', integer, 0)
    .option('--stream-type <L2|L3|L4>', 'field varied between flows: destination MAC, IP or UDP port', 'L4')
    .option('--vlan <id>', '802.1Q VLAN id to tag frames with', integer)
    .option('--ipv6', 'IPv6 (fd00::1 → fd00::2) instead of IPv4', false)
    .option('--imix <genome>', 'RFC 6985 IMIX genome (a=64 b=128 c=256 d=512 e=1024 f=1280 g=1518), e.g. aaaaaaaddddg')
    .option('--drain <s>', 'wait for frames in flight after the last one is sent (s)', Number, 1)
    .option('--cpus <list>', 'CPUs for the engine threads, e.g. 1,0', (v) => v.split(',').map((x) => integer(x)))
    .option('--histogram', 'include the latency histogram buckets in the output', false)
    .option('--progress', 'print live counters on stderr', false);
}

interface Opts {
  interface: string;
  netns?: string;
  rxInterface?: string;
  rxNetns?: string;
  frameSize: number;
  rate: Rate;
  duration?: number;
  frames?: number;
  speedMbps: number;
  backend: Backend;
  bidir: boolean;
  multistream: number;
  streamType: string;
  vlan?: number;
  ipv6: boolean;
  imix?: string;
  drain: number;
  cpus?: number[];
  histogram: boolean;
  progress: boolean;
}

export function specFromOptions(o: Opts): TrialSpec {
  const base = calibrationSpec(o.frameSize);
  const st = o.streamType.toUpperCase();
  if (st !== 'L2' && st !== 'L3' && st !== 'L4') throw new InvalidArgumentError(`--stream-type must be L2, L3 or L4, got ${o.streamType}`);
  return {
    ...base,
    stream: {
      ...base.stream,
      ...(o.imix ? { imixGenome: o.imix } : {}),
      ...(o.ipv6 ? { l3: { enabled: true, version: 6, proto: 'udp', srcIp: 'fd00::1', dstIp: 'fd00::2' } } : {}),
      ...(o.vlan !== undefined ? { vlan: { enabled: true, id: o.vlan, priority: 0, cfi: 0 } } : {}),
      multistream: o.multistream,
      streamType: st,
    },
    bidir: o.bidir,
    rate: o.rate,
    ...(o.frames !== undefined ? { frames: o.frames } : { durationS: o.duration ?? 5 }),
    drainS: o.drain,
  };
}

function printable(r: TrialResult, histogram: boolean): unknown {
  if (histogram) return r;
  const strip = <T extends { latency?: unknown }>(x: T): T => {
    if (!x.latency) return x;
    const { histogram: _h, ...lat } = x.latency as { histogram?: unknown };
    return { ...x, latency: lat };
  };
  return { ...strip(r), directions: r.directions.map(strip) };
}

export async function main(argv: readonly string[]): Promise<number> {
  const cmd = buildCommand().exitOverride();
  try {
    cmd.parse(argv as string[], { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode ?? 2;
    return code === 0 ? 0 : 2;
  }
  const o = cmd.opts<Opts>();
  if (o.frames !== undefined && o.duration !== undefined) {
    console.error('vsperf-gen: E_USAGE: give --duration or --frames, not both');
    return 2;
  }
  const cleanup = new CleanupStack();
  const journal = new Journal(`vsperf-gen-${process.pid}`);
  const host = new Host(cleanup, journal);
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const gen = new SoftwareGenerator(host, { backend: o.backend, calibrateS: 0, ...(o.cpus ? { cpus: o.cpus } : {}) });
  try {
    const ports: PortSpec[] = [{ name: o.interface, ...(o.netns ? { netns: o.netns } : {}), speedMbps: o.speedMbps }];
    if (o.rxInterface) ports.push({ name: o.rxInterface, ...((o.rxNetns ?? o.netns) ? { netns: o.rxNetns ?? o.netns } : {}), speedMbps: o.speedMbps });
    await gen.connect(ports, ac.signal);
    const r = await gen.runTrial(specFromOptions(o), ac.signal, o.progress ? (c) => process.stderr.write(`${JSON.stringify({ progress: c })}\n`) : undefined);
    process.stdout.write(`${JSON.stringify(printable(r, o.histogram), null, 2)}\n`);
    return 0;
  } catch (e) {
    if (isVsperfError(e)) {
      console.error(`vsperf-gen: ${e.brief()}`);
      return e.exitCode;
    }
    if (e instanceof InvalidArgumentError) {
      console.error(`vsperf-gen: E_USAGE: ${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    await gen.close();
    await cleanup.unwind();
    journal.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
