// Frames of the template generator: Ethernet + IPv4 + UDP, with a tag in the payload that says which
// trial and port sent it and its sequence number. Pure functions (no I/O), tested on their own.

export const MAGIC = Buffer.from('VSPTMPL1');
const ETH = 14;
const IP = 20;
const UDP = 8;
const TAG = MAGIC.length + 4 + 2 + 4; // magic, trial id, sending port, sequence number
/** Smallest frame that holds the headers and the tag, FCS included (the NIC adds the 4-byte FCS). */
export const MIN_FRAME = ETH + IP + UDP + TAG + 4;

function macBytes(mac) {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

function ipv4Bytes(ip) {
  return Buffer.from(ip.split('.').map(Number));
}

function ipChecksum(header) {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A frame (without FCS) for `stream` (a vsperf-ts StreamSpec); stamp() then writes trial, port and sequence. */
export function buildFrame(stream) {
  const frame = Buffer.alloc(stream.frameSize - 4);
  macBytes(stream.l2.dstMac).copy(frame, 0);
  macBytes(stream.l2.srcMac).copy(frame, 6);
  frame.writeUInt16BE(0x0800, 12);
  const ip = frame.subarray(ETH, ETH + IP);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(frame.length - ETH, 2);
  ip.writeUInt8(64, 8); // TTL
  ip.writeUInt8(17, 9); // UDP
  ipv4Bytes(stream.l3.srcIp).copy(ip, 12);
  ipv4Bytes(stream.l3.dstIp).copy(ip, 16);
  ip.writeUInt16BE(ipChecksum(ip), 10);
  const udp = frame.subarray(ETH + IP, ETH + IP + UDP);
  udp.writeUInt16BE(stream.l4.srcPort, 0);
  udp.writeUInt16BE(stream.l4.dstPort, 2);
  udp.writeUInt16BE(frame.length - ETH - IP, 4); // checksum 0: none (allowed for UDP over IPv4)
  MAGIC.copy(frame, ETH + IP + UDP);
  return frame;
}

export function stamp(frame, trial, port, seq) {
  const at = ETH + IP + UDP + MAGIC.length;
  frame.writeUInt32BE(trial >>> 0, at);
  frame.writeUInt16BE(port, at + 4);
  frame.writeUInt32BE(seq >>> 0, at + 6);
}

/** The tag of a received frame, or undefined when it is not one of ours. */
export function readTag(frame) {
  const at = ETH + IP + UDP;
  if (frame.length < at + TAG || frame.readUInt16BE(12) !== 0x0800 || !frame.subarray(at, at + MAGIC.length).equals(MAGIC)) return undefined;
  const t = at + MAGIC.length;
  return { trial: frame.readUInt32BE(t), port: frame.readUInt16BE(t + 4), seq: frame.readUInt32BE(t + 6) };
}
