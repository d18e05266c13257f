/** Address syntax checks shared by settings, TestSteps parameters and wire formats. */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

/** A dotted-quad IPv4 address, each part 0..255. */
export function isIpv4(s: string): boolean {
  const m = IPV4.exec(s);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}

/**
 * An IPv4 address with or without a prefix length (`a.b.c.d/n`, n ≤ 32):
 * prefix true = required, false = not allowed, 'optional' = either.
 */
export function isIpv4WithPrefix(s: string, prefix: boolean | 'optional'): boolean {
  const [addr, len, ...rest] = s.split('/');
  const okLen = len === undefined ? prefix !== true : prefix !== false && /^\d{1,2}$/.test(len) && Number(len) <= 32;
  return isIpv4(addr ?? '') && okLen && !rest.length;
}

/** A MAC address as six colon-separated hex pairs (either case). */
export function isMac(s: string): boolean {
  return MAC.test(s);
}
