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

export interface VnfStepOptions {
  readonly ctx: DriverContext;
  readonly vswitch: VSwitch;
  /** vhost port by name, as created by vswitch steps. */
  vhostPort(name: string): (SwitchPort & { bridge?: string }) | undefined;
  readonly vhostServerMode: boolean;
}

/**
 * `execute`/`execute_and_wait`/`wait` in a guest: VSPERF logs into its guest image over the serial
 * console. The vsperf-ts guest (a busybox initramfs running testpmd, l2fwd or a Linux bridge) has no
 * login: ttyS0 only carries its log and ttyS1 only answers clock queries, and it has none of the tools
 * VSPERF's steps run there (tcpdump, ethtool); in pvp its NICs belong to DPDK, not to the kernel.
 */
export function guestCommandUnsupported(object: string, method: string): never {
  throw new VsperfError(
    'E_STEP_UNSUPPORTED',
    `${object} ${method}: commands inside the guest are not supported here: the vsperf-ts guest image has no login shell on a serial port and no tools such as tcpdump`,
  );
}

/** `VNF0`, `VNF1`…: the guests a deployment (pvp, pvvp…) started; steps cannot run commands in them here. */
export function deploymentGuestTarget(object: string): StepTarget {
  return { call: async (method) => guestCommandUnsupported(object, method) };
}

export class VnfSteps {
  private readonly guests = new Map<string, { vnf?: Vnf; index: number; ports: string[] }>();

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
      canValidate: (m) => m === 'start' || m === 'stop',
      validate: async (method) => (method === 'start' ? this.linksUp(guest) : guest.vnf === undefined),
    };
  }

  private async linksUp(g: { ports: string[] }): Promise<boolean> {
    if (!this.o.vswitch.waitLinksUp) return true;
    return (await this.o.vswitch.waitLinksUp('', g.ports, 1000)).length === 0;
  }

  private async call(object: string, g: { vnf?: Vnf; index: number; ports: string[] }, method: string, _args: readonly PyValue[]): Promise<PyValue> {
    const s = this.o.ctx.settings;
    if (method === 'start') {
      if (g.vnf) throw new VsperfError('E_STEP_VNF', `${object} is already running`);
      const kind = this.o.vhostServerMode ? 'dpdkvhostuser' : 'dpdkvhostuserclient';
      const names = [`${kind}${2 * g.index}`, `${kind}${2 * g.index + 1}`];
      const nics: GuestNic[] = names.map((n) => {
        const p = this.o.vhostPort(n);
        if (!p?.socketPath)
          throw new VsperfError('E_STEP_VNF', `${object} (guest ${g.index}) needs vhost port ${n}; add it with a "vswitch add_vport" step first`);
        return { socketPath: p.socketPath, portName: p.name, ofport: p.ofport };
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
      await vnf.stop();
      return null;
    }
    return guestCommandUnsupported(object, method);
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
