/** A QEMU configuration for command-line tests: TCG, memfd, two NICs, the kernel bridge. */
import type { QemuConfig } from '../../../../vnfs/qemu/config.js';

export const testQemuConfig: QemuConfig = {
  qemuBin: 'qemu-system-x86_64',
  accel: 'tcg',
  accelReason: 'test',
  accelAuto: false,
  accelOptions: '',
  machine: 'q35',
  cpu: 'qemu64',
  memoryMiB: 256,
  smp: 1,
  coreBinding: [],
  nicsNr: 2,
  loopback: 'linux_bridge',
  kernel: '/img/vmlinuz',
  initrd: '/img/initramfs.gz',
  image: '/img',
  bootTimeoutMs: 1000,
  memBackend: 'memfd',
  hugepagesDir: '/dev/hugepages',
  vectors: 0,
  nicQueues: 0,
  mergeBuffersDisable: false,
  extraArgs: ['-snapshot'],
  appendExtra: '',
};
