/** The QEMU command line for one guest instance. Pure: unit-tested without QEMU. */
import { defaultGuestMac } from '../../framework/api/vnf.js';
import type { GuestNic } from '../types.js';
import { ramSizeArg, type QemuConfig } from './config.js';
import { vfioDeviceArgs } from './passthrough.js';
import { dpdkAppend, isDpdkApp } from './dpdk-guest.js';

export interface InstanceFiles {
  readonly name: string;
  readonly qmpSocket: string;
  readonly serialLog: string;
  /** Unix socket of the second serial port (ttyS1), where the guest answers time queries (guest-clock.ts). */
  readonly clockSocket?: string;
  /** Unix socket of the guest's command port (virtio-serial, guest-command.ts). */
  readonly commandSocket?: string;
}

/** Name of the guest's command port (the guest image looks it up in /sys/class/virtio-ports). */
export const COMMAND_PORT_NAME = 'org.vsperf.cmd';

export function qemuArgv(
  cfg: QemuConfig,
  index: number,
  nics: readonly GuestNic[],
  files: InstanceFiles,
  opts: { incoming?: boolean; paused?: boolean } = {},
): string[] {
  const argv: string[] = [];
  if (cfg.coreBinding.length) argv.push('taskset', '-c', cfg.coreBinding.join(','));
  argv.push(
    cfg.qemuBin,
    '-name',
    files.name,
    '-machine',
    cfg.machine,
    '-accel',
    cfg.accelOptions ? `${cfg.accel},${cfg.accelOptions}` : cfg.accel,
    '-cpu',
    cfg.cpu,
  );
  // Under TCG with memfd, GUEST_TCG_RAM_PAD_KB makes the size other than a multiple of 256 KiB (config.ts).
  const ram = ramSizeArg(cfg);
  argv.push('-smp', String(cfg.smp), '-m', ram);
  // vhost-user needs guest RAM shared with the backend (share=on); also what migration's dirty logging uses.
  if (cfg.memBackend === 'memfd') argv.push('-object', `memory-backend-memfd,id=mem,size=${ram},share=on`);
  else argv.push('-object', `memory-backend-file,id=mem,size=${ram},mem-path=${cfg.hugepagesDir},share=on`);
  argv.push('-numa', 'node,memdev=mem');
  argv.push('-kernel', cfg.kernel, '-initrd', cfg.initrd);
  const append = ['console=ttyS0', 'quiet', 'panic=-1', `vsperf.loopback=${cfg.loopback}`, `vsperf.nics=${nics.length + (cfg.pciDevices?.length ?? 0)}`];
  if (isDpdkApp(cfg.loopback)) append.push(...dpdkAppend(cfg.loopback, cfg.testpmd?.fwdMode ?? 'io', cfg.testpmd?.args ?? [], cfg.smp));
  if (cfg.appendExtra) append.push(cfg.appendExtra);
  argv.push('-append', append.join(' '));
  if (nics.length === 0) argv.push('-nic', 'none');
  nics.forEach((nic, k) => {
    // As VSPERF: QEMU serves the socket, or (vSwitch in vhost-user server mode) connects to the switch's.
    argv.push('-chardev', `socket,id=char${k},path=${nic.socketPath}${nic.switchServes ? '' : ',server=on'}`);
    argv.push('-netdev', `vhost-user,id=net${k},chardev=char${k}${cfg.nicQueues > 1 ? `,queues=${cfg.nicQueues}` : ''}`);
    const dev = [`virtio-net-pci`, `netdev=net${k}`, `mac=${nic.mac ?? defaultGuestMac(index, k)}`, `id=nic${k}`];
    if (cfg.mergeBuffersDisable) dev.push('mrg_rxbuf=off');
    if (cfg.guestAnnounce === false) dev.push('guest_announce=off');
    if (cfg.nicQueues > 1) dev.push('mq=on', `vectors=${cfg.vectors ?? 2 * cfg.nicQueues + 2}`);
    else if (cfg.vectors !== undefined) dev.push(`vectors=${cfg.vectors}`);
    argv.push('-device', dev.join(','));
  });
  argv.push(...vfioDeviceArgs(cfg.pciDevices ?? []));
  argv.push('-qmp', `unix:${files.qmpSocket},server=on,wait=off`);
  argv.push('-serial', `file:${files.serialLog}`, '-display', 'none', '-monitor', 'none', '-no-reboot', '-no-user-config', '-nodefaults');
  // ttyS1, bidirectional: the guest's clock is queried there (ttyS0 stays the output-only console log).
  if (files.clockSocket) argv.push('-chardev', `socket,id=clock,path=${files.clockSocket},server=on,wait=off`, '-device', 'isa-serial,chardev=clock,index=1');
  // Commands run in the guest over virtio-serial (vsperf-cmdd); last of the PCI devices, so the NICs keep their slots.
  if (files.commandSocket)
    argv.push(
      '-device',
      'virtio-serial-pci,id=vsperfser',
      '-chardev',
      `socket,id=cmd,path=${files.commandSocket},server=on,wait=off`,
      '-device',
      `virtserialport,bus=vsperfser.0,chardev=cmd,name=${COMMAND_PORT_NAME}`,
    );
  if (opts.incoming) argv.push('-incoming', 'defer');
  // Stay paused after an incoming migration (MIGRATION_VERIFY_RAM compares the RAMs before `cont`).
  if (opts.paused) argv.push('-S');
  argv.push(...cfg.extraArgs);
  return argv;
}
