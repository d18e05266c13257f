/**
 * Step objects that need no deployment: `tools` (assert, eval, exec_shell, exec_shell_background, and
 * exec_python for VSPERF's flow-file generator only: flow-file.ts),
 * `settings` (getValue, setValue, resetValue) and `log`. Shell commands run as an argv without a
 * shell unless the string itself uses shell syntax (pipes, redirections, `;`, `&&`, `$(…)`, globs) —
 * then, as the user asked, through `sh -c`.
 */
import { resolve } from 'node:path';
import { AbortedError, ProcessError, VsperfError } from '../errors.js';
import { exec } from '../host/exec.js';
import { writeFileAbortable } from '../host/write-abortable.js';
import type { Host } from '../host/host.js';
import type { Logger } from '../log/logger.js';
import { evalExpression } from './expr.js';
import { runFlowFileScript } from './flow-file.js';
import { pyRepr, pyStr, pyTruthy, StepExprError, type PyValue } from './pyvalue.js';
import { filterOutput } from './steps.js';
import type { StepTarget } from './types.js';

/** Shell syntax in a command string: then (and only then) it runs through `sh -c`. */
const SHELL_SYNTAX = /[|&;<>()$`*?[\]{}~\\]|\n/;

/** Split a command line into argv with POSIX quoting ('…', "…", \x); undefined when it needs a shell. */
export function commandArgv(command: string): string[] | undefined {
  const argv: string[] = [];
  let cur: string | undefined;
  let i = 0;
  while (i < command.length) {
    const c = command[i]!;
    if (c === ' ' || c === '\t') {
      if (cur !== undefined) argv.push(cur);
      cur = undefined;
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = command.indexOf(c, i + 1);
      if (end < 0) return undefined;
      const inner = command.slice(i + 1, end);
      if (c === '"' && /[$`\\]/.test(inner)) return undefined;
      cur = (cur ?? '') + inner;
      i = end + 1;
      continue;
    }
    if (SHELL_SYNTAX.test(c)) return undefined;
    cur = (cur ?? '') + c;
    i++;
  }
  if (cur !== undefined) argv.push(cur);
  return argv.length ? argv : undefined;
}

export function shellArgv(command: string): string[] {
  return commandArgv(command) ?? ['sh', '-c', command];
}

export interface ToolsOptions {
  readonly log: Logger;
  readonly host: Host;
  /** Working directory of shell commands (VSPERF runs them in its own cwd; we use the testcase's dir). */
  readonly cwd: string;
  /** Maximum run time of exec_shell commands (s). */
  readonly timeoutS: number;
  readonly signal: AbortSignal;
  /** Added to the environment of shell commands: makes the vSwitch's own tools reach its private instance (OVS_RUNDIR). */
  readonly env?: Readonly<Record<string, string>>;
  /** After a shell command succeeded: the vSwitch waits for what it applies asynchronously (VSwitch.settleAfterTool). */
  readonly settle?: (argv: readonly string[], signal: AbortSignal) => Promise<void>;
  /**
   * Network namespace the commands run in (`ip netns exec`): the vSwitch's, whose ports VSPERF's steps
   * name as the host's NICs. Undefined: this host's.
   */
  readonly netns?: string;
  /** vsperf runs as root: a leading `sudo` (VSPERF's steps use it everywhere) is dropped. Default: the process's uid is 0. */
  readonly asRoot?: boolean;
}

/** `sudo` with its options at the start of a command (VSPERF's steps: `sudo $TOOLS["ovs-vsctl"] …`, `sudo -E …`). */
const LEADING_SUDO = /^\s*sudo(?:\s+-[A-Za-z]+)*\s+(?=\S)/;

/**
 * What a `$TOOLS[...]` key VSPERF knows stands for, when no vSwitch in this testcase provides it:
 * the one-line reason of the step's failure.
 */
const MISSING_TOOLS: Readonly<Record<string, string>> = {
  'bind-tool': "VSPERF's dpdk-devbind (binds a physical NIC to a DPDK driver): the sandbox has no physical NIC to bind",
  dpdk_modules: "kernel modules of a DPDK source build (igb_uio): vsperf-ts uses Debian's packaged DPDK and has no NIC to bind",
  dpdk_src: "a DPDK source tree (VSPERF's PATHS['dpdk']['src']): vsperf-ts uses Debian's packaged DPDK",
  vswitch_src: "an OVS source tree (VSPERF's PATHS['vswitch']['src']): vsperf-ts uses Debian's packaged OVS",
  vswitch_modules: "kernel modules of an OVS source build: vsperf-ts uses Debian's packaged OVS",
  vppctl: 'VPP, which vsperf-ts does not support',
};

/** `$TOOLS["x"]` left in a command after macro expansion: the testcase has no such tool. */
function unresolvedTool(command: string): string | undefined {
  const m = /\$TOOLS\[\s*['"]([^'"]+)['"]\s*\]/.exec(command);
  if (!m) return undefined;
  const key = m[1]!;
  const why = MISSING_TOOLS[key] ?? (/^ovs-/.test(key) ? 'OVS is not running in this testcase (no vSwitch, or not OVS)' : 'not a tool vsperf-ts provides');
  return `TOOLS['${key}'] is not available here: ${why}`;
}

export function toolsTarget(o: ToolsOptions): StepTarget {
  // Why the last exec_shell gave None, for the validation failure (`numactl: command not found`).
  let lastFailure = '';
  const asRoot = o.asRoot ?? process.getuid?.() === 0;
  let sudoLogged = false;
  const env = o.env && Object.keys(o.env).length ? { ...process.env, ...o.env } : undefined;
  /** The command as it runs here: `$TOOLS` resolved or refused, a leading sudo dropped when root. */
  const prepare = (raw: string): string[] => {
    const missing = unresolvedTool(raw);
    if (missing) throw new VsperfError('E_STEP_UNSUPPORTED', missing);
    let command = raw;
    if (asRoot && LEADING_SUDO.test(command)) {
      command = command.replace(LEADING_SUDO, '');
      if (!sudoLogged) o.log.info('vsperf runs as root: the leading "sudo" of TestSteps shell commands is dropped');
      sudoLogged = true;
    }
    const argv = shellArgv(command);
    return o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv;
  };
  return {
    async call(method, args) {
      switch (method) {
        case 'assert': {
          const v = evalExpression(String(args[0]));
          // A macro can paste a command's output, newline included: the reason stays one line.
          if (!pyTruthy(v)) throw new StepExprError(`AssertionError: condition ${String(args[0]).replace(/\r?\n/g, '\\n')} is not True`);
          return true;
        }
        case 'eval':
          return evalExpression(String(args[0]));
        case 'exec_shell': {
          const argv = prepare(String(args[0]));
          let out: string;
          try {
            out = (await exec(argv, { cwd: o.cwd, timeoutMs: o.timeoutS * 1000, signal: o.signal, ...(env ? { env } : {}) })).stdout;
          } catch (e) {
            // VSPERF returns None when the command cannot be started; a failing command fails the step.
            if (e instanceof VsperfError && e.code === 'E_ENV') {
              lastFailure = e.message;
              return null;
            }
            // In the switch's namespace the command runs through `ip netns exec`, which reports a
            // command it cannot start with this line (exit 1 or 255 by iproute2 version): the same None as here.
            const notFound = e instanceof ProcessError ? /exec of "([^"]*)" failed: No such file or directory/.exec(e.stderrTail) : null;
            if (o.netns && notFound) {
              lastFailure = `command not found: ${notFound[1]}`;
              return null;
            }
            throw e;
          }
          await o.settle?.(argv, o.signal);
          return typeof args[1] === 'string' && args[1] ? filterOutput(out, args[1]) : out;
        }
        case 'exec_shell_background': {
          const child = await o.host.spawn(prepare(String(args[0])), {
            cwd: o.cwd,
            label: `stop background step command ${pyRepr(String(args[0]))}`,
            ...(env ? { env } : {}),
          });
          return child.pid;
        }
        case 'exec_python': {
          // Only VSPERF's flow-file generator shape; anything else is refused before a file is touched.
          const flows = runFlowFileScript(String(args[0]));
          const path = resolve(o.cwd, flows.path);
          try {
            // A FIFO blocks until a reader comes, as in Python; a stopped run does not wait for one.
            await writeFileAbortable(path, flows.lines.map((l) => `${l}\n`).join(''), o.signal);
          } catch (e) {
            if (e instanceof AbortedError) throw e;
            // Python's open() would raise and VSPERF's exec_python return False: the step fails.
            throw new StepExprError(`OSError: cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
          }
          o.log.info(`tools exec_python: VSPERF's flow-file generator wrote ${flows.lines.length} line(s) to ${path}`);
          return true;
        }
        default:
          throw new VsperfError('E_STEP_UNSUPPORTED', `tools ${method} is not supported`);
      }
    },
    canValidate: (m) => ['assert', 'eval', 'exec_shell', 'exec_shell_background', 'exec_python'].includes(m),
    async validate(method, result) {
      if (method === 'assert') return result === true;
      if (method === 'exec_python') return pyTruthy(result);
      if ((result === null || result === undefined) && lastFailure)
        throw new VsperfError('E_STEP_VALIDATION', `the command could not be started: ${lastFailure}`);
      return result !== null && result !== undefined;
    },
  };
}

/** Settings as steps see them: reads and writes go to a per-testcase overlay; resetValue takes a name out of TEST_PARAMS (VSPERF). */
export interface StepSettings {
  get(name: string): PyValue | undefined;
  set(name: string, value: PyValue): void;
  reset(name: string): void;
}

export function settingsTarget(s: StepSettings): StepTarget {
  return {
    async call(method, args) {
      const name = pyStr(args[0] ?? null);
      if (method === 'getValue') {
        const v = s.get(name);
        if (v === undefined) throw new StepExprError(`AttributeError: no setting ${name}`);
        return v;
      }
      if (method === 'setValue') {
        s.set(name, args[1] ?? null);
        return null;
      }
      s.reset(name);
      return null;
    },
    canValidate: () => true,
    async validate(method, result, args) {
      const name = pyStr(args[0] ?? null);
      if (method === 'getValue') return result !== undefined;
      if (method === 'setValue') return pyRepr(s.get(name) ?? null) === pyRepr(args[1] ?? null);
      return true;
    },
  };
}

export function logTarget(log: Logger): StepTarget {
  return {
    async call(method, args) {
      const text = args.map((a) => pyStr(a)).join(' ');
      if (method === 'debug') log.debug(text);
      else if (method === 'warning') log.warn(text);
      else if (method === 'error' || method === 'critical') log.error(text);
      else log.info(text);
      return null;
    },
  };
}
