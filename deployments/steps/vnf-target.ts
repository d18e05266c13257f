/**
 * `vnf`, `vnf1`, `vnf2`… step objects: guests started and stopped by steps. As in VSPERF, the k-th
 * guest a testcase's steps use (in order of first use) is VM index k and gets the vhost ports
 * <kind>{2k} and <kind>{2k+1}, which earlier `vswitch add_vport` steps must have created.
 */
import { DriverError, VsperfError } from '../../framework/errors.js';
import type { DriverContext } from '../../framework/api/driver.js';
import type { PyValue } from '../../framework/steps/pyvalue.js';
import type { StepTarget } from '../../framework/steps/types.js';
import type { GuestNic, Vnf } from '../../framework/api/vnf.js';
import type { SwitchPort, VSwitch } from '../../framework/api/deployment.js';
import { pyStr } from '../../framework/steps/pyvalue.js';
import { GuestConsole } from './guest-console.js';

export interface VnfStepOptions {
  readonly ctx: DriverContext;
  readonly vswitch: VSwitch;
  /** vhost port by name, as created by vswitch steps. */
  vhostPort(name: string): (SwitchPort & { bridge?: string }) | undefined;
  readonly vhostServerMode: boolean;
}

/** The console of guest `index` for steps: GUEST_PROMPT and the limit of `execute` commands from the settings. */
export function guestConsole(ctx: DriverContext, object: string, index: number, vnf: () => Vnf): GuestConsole {
  const prompts = ctx.settings.getOr('GUEST_PROMPT', ['root.*#']) as PyValue[];
  return new GuestConsole({
    object,
    vnf,
    log: ctx.log,
    signal: ctx.signal,
    shellPrompt: pyStr(Array.isArray(prompts) ? (prompts[Math.min(index, prompts.length - 1)] ?? 'root.*#') : prompts),
    executeTimeoutS: Number(ctx.settings.getOr('TEST_STEP_SHELL_TIMEOUT_S', 120)),
  });
}

/** `VNF0`, `VNF1`…: the guests a deployment (pvp, pvvp…) started; steps run commands in them. */
export function deploymentGuestTarget(ctx: DriverContext, object: string, index: number, vnf: Vnf): StepTarget {
  const console = guestConsole(ctx, object, index, () => vnf);
  return {
    call: (method, args) => console.call(method, args),
    canValidate: (m) => m === 'execute_and_wait',
    validate: async () => console.validate(),
  };
}

interface Guest {
  vnf?: Vnf;
  index: number;
  ports: string[];
  console?: GuestConsole;
}

export class VnfSteps {
  private readonly guests = new Map<string, Guest>();

  constructor(private readonly o: VnfStepOptions) {}

  /** The step object for `vnf`, `vnf1`, `vnf_trex`…: one guest per distinct name. */
  target(object: string): StepTarget {
    let g = this.guests.get(object);
    if (!g) {
      g = { index: this.guests.size, ports: [] };
      this.guests.set(object, g);
    }
    const guest = g;
    return {
      call: (method, args) => this.call(object, guest, method, args),
      canValidate: (m) => m === 'start' || m === 'stop' || m === 'execute_and_wait',
      validate: async (method) =>
        method === 'start' ? this.linksUp(guest) : method === 'stop' ? guest.vnf === undefined : (guest.console?.validate() ?? false),
    };
  }

  private async linksUp(g: { ports: string[] }): Promise<boolean> {
    if (!this.o.vswitch.waitLinksUp) return true;
    return (await this.o.vswitch.waitLinksUp('', g.ports, 1000)).length === 0;
  }

  private async call(object: string, g: Guest, method: string, args: readonly PyValue[]): Promise<PyValue> {
    const s = this.o.ctx.settings;
    if (method === 'start') {
      if (g.vnf) throw new VsperfError('E_STEP_VNF', `${object} is already running`);
      const kind = this.o.vhostServerMode ? 'dpdkvhostuser' : 'dpdkvhostuserclient';
      const names = [`${kind}${2 * g.index}`, `${kind}${2 * g.index + 1}`];
      const nics: GuestNic[] = names.map((n) => {
        const p = this.o.vhostPort(n);
        if (!p?.socketPath)
          throw new VsperfError('E_STEP_VNF', `${object} (guest ${g.index}) needs vhost port ${n}; add it with a "vswitch add_vport" step first`);
        return { socketPath: p.socketPath, portName: p.name, ofport: p.ofport, ...(p.switchServes ? { switchServes: true } : {}) };
      });
      const vnf = await this.o.ctx.create('vnf', String(s.getOr('VNF', 'QemuDpdkVhostUser')));
      if (!vnf.attach) throw new DriverError(vnf.name, 'attach', 'this VNF driver cannot be given vhost-user NICs');
      vnf.attach({ index: g.index, nics });
      g.vnf = vnf;
      g.ports = names;
      await vnf.start(this.o.ctx.signal);
      const timeouts = (s.getOr('GUEST_TIMEOUT', [180]) as PyValue[]).map(Number);
      await vnf.waitReady((timeouts[Math.min(g.index, timeouts.length - 1)] ?? 180) * 1000, this.o.ctx.signal);
      const down = this.o.vswitch.waitLinksUp ? await this.o.vswitch.waitLinksUp('', names, Number(s.getOr('VSWITCH_VHOST_LINK_TIMEOUT_S', 30)) * 1000) : [];
      if (down.length) throw new DriverError(this.o.vswitch.name, object, `vhost-user ports still down after the guest booted: ${down.join(', ')}`);
      return null;
    }
    if (method === 'stop') {
      if (!g.vnf) throw new VsperfError('E_STEP_VNF', `${object} is not running`);
      const vnf = g.vnf;
      delete g.vnf;
      delete g.console;
      await vnf.stop();
      return null;
    }
    if (!g.vnf) throw new VsperfError('E_STEP_VNF', `${object} ${method}: ${object} is not running (start it with a "${object} start" step)`);
    const vnf = g.vnf;
    g.console ??= guestConsole(this.o.ctx, object, g.index, () => vnf);
    return g.console.call(method, args);
  }

  /** Stop every guest the steps left running (VSPERF step_stop_vnfs). */
  async stopAll(): Promise<void> {
    for (const g of this.guests.values()) {
      if (g.vnf) {
        const v = g.vnf;
        delete g.vnf;
        await v.stop();
      }
    }
  }
}
