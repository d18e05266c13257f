/*
 * Frame building and trailer parsing. Layout: [outer headers of a tunnel] Ethernet [802.1Q] [IPv4|IPv6
 * [UDP]] zero payload, trailer. The trailer is the frame's last bytes whether or not the frame is
 * encapsulated, so a receiver finds it in plain, encapsulated and decapsulated frames alike.
 */
#include <arpa/inet.h>
#include <string.h>
#include "vsg.h"

#define ETHERTYPE_EXPERIMENTAL 0x88b5 /* IEEE local experimental: used when L3 is disabled */
#define IPPROTO_EXPERIMENTAL 253       /* RFC 3692: used when L4 is disabled */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, unsigned len) {
  for (; len > 1; p += 2, len -= 2) sum += (uint32_t)p[0] << 8 | p[1];
  if (len) sum += (uint32_t)p[0] << 8;
  return sum;
}

static uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v & 0xff; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

unsigned frame_min_len(const struct stream_cfg *s) {
  unsigned n = s->encap_len + 14 + (s->vlan ? 4 : 0);
  if (s->l3) n += (s->ipv6 ? 40 : 20) + (s->l4 ? 8 : 0);
  return n + VSG_TRAILER_LEN;
}

void tmpl_init(struct frame_tmpl *t, const struct stream_cfg *s) {
  uint8_t *h = t->hdr;
  memset(t, 0, sizeof *t);
  t->s = s;
  memcpy(h, s->dmac, 6);
  memcpy(h + 6, s->smac, 6);
  unsigned o = 12;
  if (s->vlan) {
    put16(h + o, 0x8100);
    put16(h + o + 2, s->vlan_tci);
    o += 4;
  }
  put16(h + o, !s->l3 ? ETHERTYPE_EXPERIMENTAL : s->ipv6 ? 0x86dd : 0x0800);
  o += 2;
  t->l2len = t->l3off = o;
  if (s->l3) {
    uint8_t proto = s->l4 ? IPPROTO_UDP : IPPROTO_EXPERIMENTAL;
    if (s->ipv6) {
      h[o] = 0x60;
      h[o + 6] = proto;
      h[o + 7] = 64; /* hop limit */
      memcpy(h + o + 8, s->sip, 16);
      memcpy(h + o + 24, s->dip, 16);
      o += 40;
    } else {
      h[o] = 0x45;
      h[o + 8] = 64; /* ttl */
      h[o + 9] = proto;
      memcpy(h + o + 12, s->sip, 4);
      memcpy(h + o + 16, s->dip, 4);
      o += 20;
    }
    t->l4off = o;
    if (s->l4) {
      put16(h + o, s->sport);
      put16(h + o + 2, s->dport);
      o += 8;
    }
  }
  t->hdrlen = o;
  t->udp6 = s->l3 && s->l4 && s->ipv6;
}

/* The multistream field of any flow, flow 0 included (apply_flow leaves the template's value for it);
 * destination MAC, IP or UDP port, as VSPERF's stream_type. */
static void set_flow(const struct frame_tmpl *t, uint8_t *buf, unsigned flow) {
  const struct stream_cfg *s = t->s;
  switch (s->vary) {
  case VARY_L2:
    put32(buf + 2, get32(s->dmac + 2) + flow);
    break;
  case VARY_L3:
    if (!s->l3) break;
    if (s->ipv6) put32(buf + t->l3off + 24 + 12, get32(s->dip + 12) + flow);
    else put32(buf + t->l3off + 16, get32(s->dip) + flow);
    break;
  case VARY_L4:
    if (s->l3 && s->l4) put16(buf + t->l4off + 2, (uint16_t)(s->dport + flow));
    break;
  default:
    break;
  }
}

/* The multistream field of flow `flow`: destination MAC, IP or UDP port, as VSPERF's stream_type;
 * flow 0 keeps the template's value. */
static void apply_flow(const struct frame_tmpl *t, uint8_t *buf, unsigned flow) {
  if (flow) set_flow(t, buf, flow);
}

/* Sequence number and TX timestamp: the last 10 bytes of the frame. */
static inline void put_seq_ts(uint8_t *tr, uint32_t seq, uint64_t ts_ns) {
  put32(tr + 4, seq);
  for (int i = 0; i < 6; i++) tr[8 + i] = (uint8_t)(ts_ns >> (40 - 8 * i));
}

/* IPv6 UDP checksum (mandatory): pseudo header + UDP header + payload. */
static void udp6_csum(const struct frame_tmpl *t, uint8_t *buf, unsigned len) {
  uint8_t *udp = buf + t->l4off;
  unsigned l4len = len - t->l4off;
  put16(udp + 6, 0);
  uint32_t sum = csum_add(0, buf + t->l3off + 8, 32) + IPPROTO_UDP + l4len;
  sum = csum_add(sum, udp, l4len);
  uint16_t c = csum_fold(sum);
  put16(udp + 6, c ? c : 0xffff);
}

/* Outer IPv4 total length and header checksum, outer UDP length (checksum 0: optional over IPv4). */
static void encap_fix(const struct stream_cfg *s, uint8_t *buf, unsigned len) {
  uint8_t *ip = buf + 14;
  unsigned ihl = (unsigned)(ip[0] & 0x0f) * 4;
  put16(ip + 2, (uint16_t)(len - 14));
  put16(ip + 10, 0);
  put16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
  if (ip[9] == IPPROTO_UDP && s->encap_len >= 14 + ihl + 8) {
    put16(ip + ihl + 4, (uint16_t)(len - 14 - ihl));
    put16(ip + ihl + 6, 0);
  }
}

static void inner_build(const struct frame_tmpl *t, uint8_t *buf, unsigned len, unsigned flow, uint16_t stream, uint8_t tag, uint32_t seq, uint64_t ts_ns);

void frame_build(const struct frame_tmpl *t, uint8_t *buf, unsigned len, unsigned flow, uint16_t stream, uint8_t tag, uint32_t seq, uint64_t ts_ns) {
  const struct stream_cfg *s = t->s;
  if (!s->encap_len) {
    inner_build(t, buf, len, flow, stream, tag, seq, ts_ns);
    return;
  }
  memcpy(buf, s->encap, s->encap_len);
  inner_build(t, buf + s->encap_len, len - s->encap_len, flow, stream, tag, seq, ts_ns);
  encap_fix(s, buf, len);
}

static void inner_build(const struct frame_tmpl *t, uint8_t *buf, unsigned len, unsigned flow, uint16_t stream, uint8_t tag, uint32_t seq, uint64_t ts_ns) {
  const struct stream_cfg *s = t->s;
  memcpy(buf, t->hdr, t->hdrlen);
  /* The buffer may hold an older frame (another size, or another user of the ring): zero payload. */
  memset(buf + t->hdrlen, 0, len - t->hdrlen - VSG_TRAILER_LEN);
  apply_flow(t, buf, flow);
  uint8_t *tr = buf + len - VSG_TRAILER_LEN;
  tr[0] = VSG_MAGIC;
  tr[1] = tag;
  put16(tr + 2, stream);
  put_seq_ts(tr, seq, ts_ns);
  if (!s->l3) return;
  uint8_t *ip = buf + t->l3off;
  unsigned l3len = len - t->l3off;
  if (s->ipv6) {
    put16(ip + 4, (uint16_t)(l3len - 40));
  } else {
    put16(ip + 2, (uint16_t)l3len);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
  }
  if (!s->l4) return;
  put16(buf + t->l4off + 4, (uint16_t)(len - t->l4off));
  if (t->udp6) udp6_csum(t, buf, len);
  else put16(buf + t->l4off + 6, 0); /* optional for IPv4 */
}

void frame_restamp(const struct frame_tmpl *t, uint8_t *buf, unsigned len, uint32_t seq, uint64_t ts_ns) {
  put_seq_ts(buf + len - VSG_TRAILER_LEN, seq, ts_ns);
  if (t->udp6) udp6_csum(t, buf + t->s->encap_len, len - t->s->encap_len);
}


int frame_reflow(const struct frame_tmpl *t, uint8_t *buf, unsigned len, unsigned flow, uint16_t stream, uint32_t seq, uint64_t ts_ns) {
  const struct stream_cfg *s = t->s;
  if (s->encap_len) return 0;
  if (s->vary == VARY_L3 && s->l3 && !s->ipv6) {
    /* The checksum from the template (in cache), not from buf: the frame's line is written, never read
     * (a load from an mbuf the switch had last stalled the loop; stores do not wait). */
    uint8_t ip[20];
    memcpy(ip, t->hdr + t->l3off, 20);
    put16(ip + 2, (uint16_t)(len - t->l3off));
    put32(ip + 16, get32(s->dip) + flow);
    put32(buf + t->l3off + 16, get32(s->dip) + flow);
    put16(buf + t->l3off + 10, csum_fold(csum_add(0, ip, 20)));
  } else {
    set_flow(t, buf, flow);
  }
  put16(buf + len - VSG_TRAILER_LEN + 2, stream);
  frame_restamp(t, buf, len, seq, ts_ns);
  return 1;
}

int trailer_parse(const uint8_t *f, unsigned len, uint8_t tag, uint16_t *stream, uint32_t *seq, uint64_t *ts48) {
  if (len < 14 + VSG_TRAILER_LEN) return 0;
  const uint8_t *tr = f + len - VSG_TRAILER_LEN;
  if (tr[0] != VSG_MAGIC || tr[1] != tag) return 0;
  *stream = (uint16_t)(tr[2] << 8 | tr[3]);
  *seq = get32(tr + 4);
  uint64_t ts = 0;
  for (int i = 0; i < 6; i++) ts = ts << 8 | tr[8 + i];
  *ts48 = ts;
  return 1;
}
