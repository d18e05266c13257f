// Packet capture in the guest: Debian's tcpdump (package tcpdump) and every library it loads
// (elf-closure.mjs), for VSPERF testcases that capture inside a VNF (capture_pvp_modify_vid runs
// `tcpdump -i eth0 -c 5 -w dump.pcap vlan 4 &` in the guest, then reads the file back).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { elfClosure } from './elf-closure.mjs';

export const TCPDUMP = '/usr/bin/tcpdump';
const LIB_DIR = '/lib/x86_64-linux-gnu';

/**
 * Debian builds tcpdump to drop root to the user "tcpdump" after opening the capture (--with-user):
 * without that user in the guest's /etc/passwd it exits with "Couldn't find user 'tcpdump'".
 * The initramfs has no other users files, so these are the whole of them.
 */
export const PASSWD = 'root:x:0:0:root:/root:/bin/sh\ntcpdump:x:101:101:tcpdump:/nonexistent:/bin/false\n';
export const GROUP = 'root:x:0:\ntcpdump:x:101:\n';

/** Version of the package the guest's tcpdump comes from, for the rebuild check. */
export function captureInputs() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'tcpdump'], { encoding: 'utf8' });
  return { tcpdump: r.status === 0 ? r.stdout.trim() : 'missing' };
}

/** Files for the initramfs: path inside the guest → host file; `texts`: path inside the guest → content. */
export function captureFiles() {
  if (!existsSync(TCPDUMP)) throw new Error(`${TCPDUMP} is missing (install the Debian package tcpdump)`);
  const files = new Map([['/bin/tcpdump', TCPDUMP]]);
  for (const [at, real] of elfClosure([TCPDUMP])) files.set(at.startsWith('/lib64/') ? at : join(LIB_DIR, basename(at)), real);
  const texts = new Map([
    ['/etc/passwd', PASSWD],
    ['/etc/group', GROUP],
  ]);
  return { files, texts };
}
