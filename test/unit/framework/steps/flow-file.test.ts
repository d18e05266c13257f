/**
 * tools exec_python: VSPERF's flow-file generator shape, run without Python, and the refusal of
 * everything else. Differential part: Debian's python3 (test only) runs the same scripts; it has no
 * netaddr here, so the oracle puts a stand-in built on the standard ipaddress module in its place
 * (IPAddress(int|str), .value, str(): what the shape uses of netaddr).
 */
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { AbortedError, VsperfError } from '../../../../framework/errors.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import { toolsTarget } from '../../../../framework/steps/builtin-objects.js';
import { ExecPythonUnsupported, MAX_FLOW_LINES, runFlowFileScript } from '../../../../framework/steps/flow-file.js';
import { StepExprError } from '../../../../framework/steps/pyvalue.js';

/** VSPERF's two OVS generators (conf/integration/01a_testcases_l34_vxlan.json) after macro expansion. */
const L3 = (n: number, dst = '6.0.0.1'): string =>
  `import netaddr;cmds=open("/tmp/ovsofctl_cmds.txt","w");[print("add nw_dst={} idle_timeout=0,dl_type=0x800,in_port=1,action=output:2".format(netaddr.IPAddress(netaddr.IPAddress("${dst}").value+i)),file=cmds) for i in range(${n})];cmds.close()`;
const L4 = (n: number): string =>
  `import netaddr;cmds=open("/tmp/ovsofctl_cmds.txt","w");[print("add nw_dst={} idle_timeout=0,dl_type=0x800,nw_proto=17,tp_src={},in_port=1,action=output:2".format(netaddr.IPAddress(netaddr.IPAddress("6.0.0.1").value+i),7),file=cmds) for i in range(${n})];cmds.close()`;
/** VSPERF's VPP generator: netaddr.EUI and an extra statement, outside the shape. */
const VPP =
  'import netaddr;dst_mac_value = netaddr.EUI("00:00:00:00:00:0A").value;cmds=open("/tmp/vppctl_cmds.txt","w");[print("set ip arp #STEP[2][0] {} {}".format(netaddr.IPAddress(netaddr.IPAddress("6.0.0.1").value+i),netaddr.EUI(dst_mac_value+i,dialect=netaddr.mac_unix_expanded)),file=cmds) for i in range(0)];cmds.close()';

const ORACLE = `
import ipaddress, json, os, shutil, sys, tempfile, types
class IPAddress:
    def __init__(self, a):
        if isinstance(a, int) and a < 0:
            raise ValueError("AddrFormatError")
        self._ip = ipaddress.ip_address(a)
    @property
    def value(self):
        return int(self._ip)
    def __str__(self):
        return str(self._ip)
    __format__ = lambda self, spec: format(str(self), spec)
mod = types.ModuleType("netaddr")
mod.IPAddress = IPAddress
sys.modules["netaddr"] = mod
out = []
d = tempfile.mkdtemp()
for k, src in enumerate(json.load(sys.stdin)):
    path = os.path.join(d, "f%d" % k)
    try:
        exec(src.replace("@PATH@", path), {})
        with open(path) as f:
            out.append({"lines": f.read().split("\\n")[:-1]})
    except Exception as x:
        out.append({"error": type(x).__name__})
shutil.rmtree(d)
print(json.dumps(out))
`;

function python(scripts: readonly string[]): ({ lines: string[] } | { error: string })[] {
  return JSON.parse(execFileSync('python3', ['-c', ORACLE], { input: JSON.stringify(scripts), maxBuffer: 64 * 1024 * 1024 }).toString()) as never;
}

function refusal(src: string): string {
  try {
    runFlowFileScript(src);
  } catch (e) {
    expect(e, src).to.be.instanceOf(ExecPythonUnsupported);
    expect((e as VsperfError).code).to.equal('E_STEP_UNSUPPORTED');
    expect((e as Error).message, 'one line').to.not.match(/\n/);
    return (e as Error).message;
  }
  throw new Error(`not refused: ${src}`);
}

describe('tools exec_python: VSPERF flow-file generator', () => {
  it('writes the flows of p2p_l3_multi_IP_ovs and p2p_l4_multi_PORT_ovs', () => {
    expect(runFlowFileScript(L3(3, '6.0.0.254'))).to.deep.equal({
      path: '/tmp/ovsofctl_cmds.txt',
      lines: ['6.0.0.254', '6.0.0.255', '6.0.1.0'].map((ip) => `add nw_dst=${ip} idle_timeout=0,dl_type=0x800,in_port=1,action=output:2`),
    });
    expect(runFlowFileScript(L4(2)).lines).to.deep.equal([
      'add nw_dst=6.0.0.1 idle_timeout=0,dl_type=0x800,nw_proto=17,tp_src=7,in_port=1,action=output:2',
      'add nw_dst=6.0.0.2 idle_timeout=0,dl_type=0x800,nw_proto=17,tp_src=7,in_port=1,action=output:2',
    ]);
    // VSPERF's default multistream is 0: an empty file, as Python writes it.
    expect(runFlowFileScript(L3(0)).lines).to.deep.equal([]);
  });

  it('refuses other statements, modules, calls and attributes in one line, even when the loop would not run', () => {
    const cases: [string, RegExp][] = [
      [VPP, /5 statement\(s\) where the generator has 4/],
      [VPP.replace(/dst_mac_value = [^;]*;/, '').replace('dst_mac_value+i', 'i'), /netaddr\.EUI\(\) is not supported/],
      ['import os;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in range(1)];f.close()', /import of os is not supported/],
      ['import netaddr, os;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in range(1)];f.close()', /first statement must be "import netaddr"/],
      ['import netaddr;import os;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in range(1)];f.close()', /5 statement/],
      ['x=1;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in range(1)];f.close()', /first statement must be "import netaddr"/],
      ['import netaddr;f=open("/etc/passwd","a");[print("{}".format(i),file=f) for i in range(1)];f.close()', /only open\(PATH,"w"\)/],
      ['import netaddr;f=open(__file__,"w");[print("{}".format(i),file=f) for i in range(1)];f.close()', /only open\(PATH,"w"\) with a string PATH/],
      ['import netaddr;f=__import__("os");[print("{}".format(i),file=f) for i in range(1)];f.close()', /__import__\(\) where open/],
      [
        'import netaddr;f=open("/tmp/x","w");[print("{}".format(__import__("os").system("id")),file=f) for i in range(0)];f.close()',
        /\.system\(\) is not supported/,
      ],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(eval("1")),file=f) for i in range(0)];f.close()', /the call eval\(\)/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i.__class__),file=f) for i in range(0)];f.close()', /attribute \.__class__/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(netaddr.IPAddress("1.2.3.4").words),file=f) for i in range(0)];f.close()', /attribute \.words/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(x),file=f) for i in range(0)];f.close()', /the name x is not supported/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i),"x",file=f) for i in range(1)];f.close()', /one value, no sep= or end=/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i),file=f,end="") for i in range(1)];f.close()', /one value, no sep= or end=/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i),file=g) for i in range(1)];f.close()', /print writes to g/],
      ['import netaddr;f=open("/tmp/x","w");[print("{!r}".format(i),file=f) for i in range(1)];f.close()', /format field \{!r\}/],
      ['import netaddr;f=open("/tmp/x","w");[print("{:>8}".format(i),file=f) for i in range(1)];f.close()', /format field \{:>8\}/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in range(1) if i];f.close()', /only range\(N\)|not supported/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in [1,2]];f.close()', /only range\(N\)/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in range(0, 5)];f.close()', /only range\(N\)/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in range(1)];f.write("x")', /last statement must be f\.close\(\)/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in range(1)];import os', /last statement must be f\.close\(\)/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in range(1)]\nimport os;f.close()', /one line/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(netaddr.IPAddress("::1")),file=f) for i in range(1)];f.close()', /dotted-quad/],
      [
        'import netaddr;f=open("/tmp/x","w");[print("{}".format(netaddr.IPAddress(4294967295+i)),file=f) for i in range(2)];f.close()',
        /IPv6 address to netaddr/,
      ],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(netaddr.IPAddress(1, 4)),file=f) for i in range(1)];f.close()', /exactly one address/],
      ['import netaddr;f=open("/tmp/x","w");[print("{}".format(i**2),file=f) for i in range(1)];f.close()', /operator \*\*/],
      [`import netaddr;f=open("/tmp/x","w");[print("{}".format(i),file=f) for i in range(${MAX_FLOW_LINES + 1})];f.close()`, /more than 1048576 lines/],
      [
        `import netaddr;f=open("/tmp/x","w");[print("${'x'.repeat(4000)}{}".format(i),file=f) for i in range(20000)];f.close()`,
        /larger than 64 MiB \(line \d+ of 20000\)/,
      ],
      ['import netaddr;f=open("/tmp/x","w");[print(f"{i}",file=f) for i in range(1)];f.close()', /not supported/],
      ['import netaddr;f=open("/tmp/x","w");[print((lambda: 1)(),file=f) for i in range(1)];f.close()', /not supported/],
    ];
    for (const [src, why] of cases) expect(refusal(src), src).to.match(why);
  });

  it('fails as Python would on errors inside the shape (exec_python returns False): E_STEP_EXPR', () => {
    const bad = [
      'import netaddr;f=open("/tmp/x","w");[print("{}".format("a"+i),file=f) for i in range(1)];f.close()',
      'import netaddr;f=open("/tmp/x","w");[print("{} {}".format(i),file=f) for i in range(1)];f.close()',
    ];
    for (const src of bad) expect(() => runFlowFileScript(src), src).to.throw(StepExprError);
  });

  it('str operands and format fields: refused where Python runs the script, E_STEP_EXPR only where Python raises (python3 the oracle)', function () {
    this.timeout(30_000);
    const script = (fmt: string, args: string, n = 1): string =>
      `import netaddr;cmds=open("@PATH@","w");[print(${JSON.stringify(fmt)}.format(${args}),file=cmds) for i in range(${n})];cmds.close()`;
    const operands = ['"a"', '"1"', 'i', '7', 'netaddr.IPAddress("0.0.0.3").value'];
    const samples: string[] = [];
    for (const l of operands) for (const r of operands) for (const op of ['+', '-', '*']) samples.push(script('{}', `${l}${op}${r}`));
    for (const x of ['-"a"', '+"a"', '"a".value', 'i.value', '(i+1).value', 'netaddr.IPAddress("1.2.3."+"4")', 'range(1)[0]']) samples.push(script('{}', x));
    // Fields as Python reads them: a spec holding fields of its own, escaped braces, single braces.
    for (const [fmt, args] of [
      ['{0:{1}}', '5,3'],
      ['{:{}}', '5,3'],
      ['{0:>{1}}', 'i,4'],
      ['{0:{1}{2}}', '5,">",4'],
      ['{{}}{}', 'i'],
      ['{{{0}}}', 'i'],
      ['{0}}', 'i'],
      ['{', 'i'],
      ['}{}', 'i'],
      ['{0:{1}', '5,3'],
      ['{}{1}', 'i,i'],
      ['{2}', 'i'],
      ['{00}', 'i'],
    ])
      samples.push(script(fmt!, args!));
    const want = python(samples);
    const outcome = (src: string): { lines: readonly string[] } | { error: string } | { refused: string } => {
      try {
        return { lines: runFlowFileScript(src).lines };
      } catch (e) {
        if (e instanceof ExecPythonUnsupported) return { refused: e.message };
        if (e instanceof StepExprError) return { error: e.message };
        throw e;
      }
    };
    samples.forEach((src, k) => {
      const got = outcome(src);
      const w = want[k]!;
      if ('refused' in got) return;
      if ('error' in w) expect(got, `${src}: python raised ${w.error}`).to.have.property('error');
      else expect(got, `${src}: python wrote ${JSON.stringify(w.lines)}`).to.deep.equal(w);
    });
    // What Python runs and this does not is a refusal, never a Python error; and so before any line is made.
    for (const [args, why] of [
      ['"a"+"b"', /\+ of a str is not supported/],
      ['"a"*2', /\* of a str is not supported/],
      ['2*"a"', /\* of a str is not supported/],
      ['range(netaddr.IPAddress("0.0.0.2"))[1]', /not supported/],
    ] as const)
      expect(refusal(script('{}', args)), args).to.match(why);
    expect(refusal(script('{0:{1}}', '5,3', 0)), 'a nested field, also when the loop does not run').to.match(/format field \{0:\{1\}\} is not supported/);
    expect(refusal(script('{}', 'i', 0).replace('range(0)', 'range(netaddr.IPAddress("0.0.0.2"))'))).to.match(/range\(\) of an IPAddress is not supported/);
    expect(outcome(script('{}', '"a"-"b"'))).to.deep.equal({ error: "TypeError: unsupported operand type(s) for -: 'str' and 'str'" });
    expect(outcome(script('{}', 'i.value'))).to.deep.equal({ error: "AttributeError: 'int' object has no attribute 'value'" });
  });

  it('agrees with python3 (netaddr stand-in on ipaddress) on generated scripts of the shape', function () {
    this.timeout(60_000);
    const octet = fc.integer({ min: 0, max: 255 });
    const ip = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
    const small = fc.integer({ min: 0, max: 300 });
    // Arguments the shape allows: ints from the loop variable, literals, + - * and .value; addresses
    // from a string or from an int expression (the generator's IPAddress(IPAddress(s).value+i)).
    const num = fc.letrec<{ n: string }>((tie) => ({
      n: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constant('i'),
        small.map(String),
        ip.map((s) => `netaddr.IPAddress("${s}").value`),
        fc.tuple(tie('n'), fc.constantFrom('+', '-', '*'), tie('n')).map(([x, op, y]) => `(${x})${op}(${y})`),
      ),
    })).n;
    const arg = fc.oneof(
      num,
      ip.map((s) => `netaddr.IPAddress("${s}")`),
      fc.tuple(ip, fc.constantFrom('+', '-'), num).map(([s, op, x]) => `netaddr.IPAddress(netaddr.IPAddress("${s}").value${op}${x})`),
    );
    const text = fc.stringMatching(/^[a-z=,_ :.0-9]{0,12}$/);
    const script = fc
      .tuple(fc.array(fc.tuple(text, arg), { minLength: 1, maxLength: 3 }), text, fc.integer({ min: 0, max: 40 }), fc.boolean())
      .map(([parts, tail, n, numbered]) => {
        const fmt = parts.map(([t], k) => `${t}{${numbered ? k : ''}}`).join('') + tail;
        return `import netaddr;cmds=open("@PATH@","w");[print("${fmt}".format(${parts.map(([, a]) => a).join(',')}),file=cmds) for i in range(${n})];cmds.close()`;
      });
    const samples = fc.sample(script, { numRuns: 300, seed: 7 });
    samples.push(...[L3(40), L4(40), L3(5, '255.255.255.250')].map((s) => s.replace('/tmp/ovsofctl_cmds.txt', '@PATH@')));
    const want = python(samples);
    let agreed = 0;
    samples.forEach((src, k) => {
      let got: { lines: readonly string[] } | { error: string } | { refused: string };
      try {
        got = { lines: runFlowFileScript(src).lines };
      } catch (e) {
        if (e instanceof ExecPythonUnsupported) got = { refused: e.message };
        else if (e instanceof StepExprError) got = { error: e.message };
        else throw e;
      }
      const w = want[k]!;
      if ('refused' in got) {
        // Inside the shape only an address past IPv4 (netaddr: IPv6) and arithmetic on an address are refused.
        expect(got.refused, src).to.match(/IPv6 address to netaddr|of an IPAddress is not supported/);
        return;
      }
      if ('error' in w) expect(got, `${src}: python raised ${w.error}`).to.have.property('error');
      else expect(got, src).to.deep.equal(w);
      agreed++;
    });
    expect(agreed, 'most generated scripts run in both').to.be.greaterThan(200);
  });

  it('tools exec_python writes the file and returns True; a refused script writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsd-flowfile-'));
    try {
      const tools = toolsTarget({ log: silentLogger, host: undefined as never, cwd: dir, timeoutS: 5, signal: new AbortController().signal });
      const src = L3(2).replace('/tmp/ovsofctl_cmds.txt', 'flows.txt');
      expect(await tools.call('exec_python', [src])).to.equal(true);
      expect(await tools.validate!('exec_python', true, [src])).to.equal(true);
      expect(readFileSync(join(dir, 'flows.txt'), 'utf8')).to.equal(
        'add nw_dst=6.0.0.1 idle_timeout=0,dl_type=0x800,in_port=1,action=output:2\nadd nw_dst=6.0.0.2 idle_timeout=0,dl_type=0x800,in_port=1,action=output:2\n',
      );
      const other = src.replace('flows.txt', 'other.txt').replace('range(2)', 'range(2) if i');
      let err: unknown;
      await tools.call('exec_python', [other]).catch((e: unknown) => (err = e));
      expect((err as VsperfError).code).to.equal('E_STEP_UNSUPPORTED');
      expect(existsSync(join(dir, 'other.txt'))).to.equal(false);
      err = undefined;
      await tools.call('exec_python', [src.replace('flows.txt', 'no/such/dir/f.txt')]).catch((e: unknown) => (err = e));
      expect(String((err as Error).message)).to.match(/^OSError: cannot write .*no\/such\/dir\/f\.txt: ENOENT$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tools exec_python to a FIFO: waits for a reader as Python does, gives way to an abort, and writes everything to a reader', async function () {
    this.timeout(20_000);
    const dir = mkdtempSync(join(tmpdir(), 'vsd-flowfile-'));
    const fifo = join(dir, 'flows.fifo');
    execFileSync('mkfifo', [fifo]);
    const ac = new AbortController();
    try {
      const tools = toolsTarget({ log: silentLogger, host: undefined as never, cwd: dir, timeoutS: 5, signal: ac.signal });
      const src = L3(3000).replace('/tmp/ovsofctl_cmds.txt', 'flows.fifo');
      const call = tools.call('exec_python', [src]).then(
        () => 'written',
        (e: unknown) => e,
      );
      await new Promise((res) => setTimeout(res, 300));
      ac.abort();
      const t0 = Date.now();
      const out = await Promise.race([call, new Promise((res) => setTimeout(() => res('still waiting 3 s after the abort'), 3000))]);
      expect(out).to.be.instanceOf(AbortedError);
      expect(Date.now() - t0, 'ms from the abort').to.be.lessThan(1000);
      // With a reader (more than a pipe holds: 3000 lines, ~225 kB), every line arrives.
      const reader = spawn('cat', [fifo]);
      let got = '';
      reader.stdout.on('data', (d: Buffer) => (got += d.toString()));
      const closed = new Promise((res) => reader.on('close', res));
      const tools2 = toolsTarget({ log: silentLogger, host: undefined as never, cwd: dir, timeoutS: 5, signal: new AbortController().signal });
      expect(await tools2.call('exec_python', [src])).to.equal(true);
      await closed;
      expect(got).to.equal(
        runFlowFileScript(src)
          .lines.map((l) => `${l}\n`)
          .join(''),
      );
    } finally {
      // A writer still blocked in open() (before the fix) is let go by a reader, so the process can end.
      const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      await new Promise((res) => setTimeout(res, 100));
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
