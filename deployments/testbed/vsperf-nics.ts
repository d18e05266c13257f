/**
 * VSPERF's NICS list (vsperf sets it at start from WHITELIST_NICS: pci, type, mac, driver, device
 * per NIC) for the ports a testbed gives the switch, so TestSteps that name a NIC
 * (`ip addr flush dev $NICS[0]["device"]`, an af_packet vdev on `iface=$NICS[0]["device"]`) act on
 * the port the deployment really uses. On the sandbox that "NIC" is the switch's end of a veth pair:
 * a kernel netdev with a name and a MAC, and no PCI address.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '../../framework/host/exec.js';
import { pciDevicePath, pciDriver } from '../../framework/host/pci.js';
import type { JsonObject } from '../../framework/config/settings.js';
import type { PhyPort } from '../../framework/api/deployment.js';

/** One NICS entry from what the port is and what the kernel says of it (pure: tests give the facts). */
export function nicEntry(port: PhyPort, facts: { mac?: string; driver?: string; device?: string }): JsonObject {
  if (port.kind === 'veth') return { pci: '', type: 'veth', mac: facts.mac ?? '', driver: 'veth', device: port.iface };
  if (port.kind === 'pci')
    return { pci: port.pci, type: port.vf !== undefined ? 'vf' : 'pf', mac: facts.mac ?? '', driver: facts.driver ?? '', device: facts.device ?? '' };
  // The sandbox's vhost-user "NICs" are sockets to the generator: no netdev.
  return { pci: '', type: 'vhost-user', mac: '', driver: '', device: '' };
}

/** MAC of a netdev, read with `ip -j` in its namespace ('' when it cannot be read). */
async function vethMac(iface: string, netns: string | undefined): Promise<string> {
  const r = await exec([...(netns ? ['ip', '-n', netns] : ['ip']), '-j', 'link', 'show', 'dev', iface], { allowFail: true });
  try {
    const [link] = JSON.parse(r.stdout) as Array<{ address?: string }>;
    return link?.address ?? '';
  } catch {
    return '';
  }
}

/** Kernel facts of a PCI NIC from sysfs: its driver, and its netdev and MAC when a kernel driver holds it. */
function pciFacts(pci: string, sysfs = '/sys'): { mac?: string; driver?: string; device?: string } {
  const dev = pciDevicePath(sysfs, pci);
  const driver = pciDriver(sysfs, pci);
  const out: { mac?: string; driver?: string; device?: string } = driver ? { driver } : {};
  try {
    const [netdev] = readdirSync(join(dev, 'net'));
    if (netdev) {
      out.device = netdev;
      out.mac = readFileSync(join(dev, 'net', netdev, 'address'), 'utf8').trim();
    }
  } catch {
    /* bound to vfio-pci or another userspace driver: no netdev */
  }
  return out;
}

/** NICS for a testbed's switch ports, in port order. */
export async function vsperfNics(ports: readonly PhyPort[], switchNetns: string | undefined): Promise<JsonObject[]> {
  const out: JsonObject[] = [];
  for (const p of ports) {
    if (p.kind === 'veth') out.push(nicEntry(p, { mac: await vethMac(p.iface, switchNetns) }));
    else if (p.kind === 'pci') out.push(nicEntry(p, pciFacts(p.pci)));
    else out.push(nicEntry(p, {}));
  }
  return out;
}
