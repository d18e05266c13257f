/**
 * TESTBED_HOSTS: the hosts of a multi-host testbed, checked before anything connects. An address or
 * user starting with '-' would be read by ssh as an option (e.g. -oProxyCommand=…): refused here.
 */
import type { Json } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import type { SshTarget } from './ssh.js';

export const HOST_ROLES = ['dut', 'generator', 'migration-target'] as const;

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const ADDRESS = /^[A-Za-z0-9][A-Za-z0-9.:%_-]*$/;
const UPLINK = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}$/;
const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

export function parseTestbedHosts(value: Json, source: string, key = 'TESTBED_HOSTS'): SshTarget[] {
  if (!Array.isArray(value)) throw new ConfigError(key, source, 'must be a list of hosts');
  const seen = new Set<string>();
  return value.map((raw, i) => {
    const at = `${key}[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new ConfigError(at, source, 'must be an object {name, address, user, key_file, known_hosts, roles}');
    const o = raw as Record<string, Json>;
    const allowed = new Set(['name', 'address', 'port', 'user', 'key_file', 'known_hosts', 'roles', 'uplink', 'migration_address', 'tgshim']);
    for (const k of Object.keys(o)) if (!allowed.has(k)) throw new ConfigError(`${at}.${k}`, source, `unknown field (known: ${[...allowed].join(', ')})`);
    const str = (k: string, re: RegExp, what: string): string => {
      const v = o[k];
      if (typeof v !== 'string' || !re.test(v)) throw new ConfigError(`${at}.${k}`, source, `must be ${what}, got ${JSON.stringify(v)}`);
      return v;
    };
    const name = str('name', NAME, 'a name of letters, digits, _ and - (starting with a letter)');
    if (seen.has(name)) throw new ConfigError(`${at}.name`, source, `host ${name} is named twice`);
    seen.add(name);
    const address = str('address', ADDRESS, 'a host name or IP address');
    const user = str('user', USER, 'a user name');
    const keyFile = str('key_file', /^\//, 'an absolute path');
    const knownHosts = str('known_hosts', /^\//, 'an absolute path (host keys are checked against it)');
    const port = o.port ?? 22;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      throw new ConfigError(`${at}.port`, source, `must be a TCP port, got ${JSON.stringify(o.port)}`);
    const roles = o.roles ?? ['dut'];
    if (!Array.isArray(roles) || roles.length === 0 || roles.some((r) => !(HOST_ROLES as readonly Json[]).includes(r)))
      throw new ConfigError(`${at}.roles`, source, `must be a non-empty list of ${HOST_ROLES.join(', ')}, got ${JSON.stringify(o.roles)}`);
    const uplink = o.uplink === undefined ? undefined : str('uplink', UPLINK, 'an interface name or a PCI address (the port on the fabric)');
    const migrationAddress = o.migration_address === undefined ? undefined : str('migration_address', ADDRESS, 'a host name or IP address');
    const tgshim = o.tgshim;
    if (tgshim !== undefined && (!Array.isArray(tgshim) || tgshim.length === 0 || tgshim.some((w) => typeof w !== 'string' || w === '' || w.includes('\0'))))
      throw new ConfigError(`${at}.tgshim`, source, `must be the vsperf-tgshim command as a non-empty list of words, got ${JSON.stringify(tgshim)}`);
    return {
      name,
      address,
      port,
      user,
      keyFile,
      knownHosts,
      roles: roles as string[],
      ...(uplink ? { uplink } : {}),
      ...(migrationAddress ? { migrationAddress } : {}),
      ...(tgshim ? { tgshim: tgshim as string[] } : {}),
    };
  });
}
