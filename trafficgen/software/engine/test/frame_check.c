/*
 * Check of frame_reflow (frame.c): a buffer that holds frame_build's frame for one flow and lane, reflowed
 * to another flow, stream id, sequence and timestamp, must hold byte for byte what frame_build writes for
 * those. Every multistream kind (none, L2, L3, L4) over IPv4 and IPv6, with and without a VLAN tag, and
 * a non-IP frame; an encapsulated stream must be refused (0). Prints one line per mismatch; exit 0 = equal.
 * Built and run by test/unit/trafficgen/software/engine-rx.test.ts.
 */
#include <stdio.h>
#include <string.h>
#include "../vsg.h"

int main(void) {
  int bad = 0, cases = 0;
  const enum vary kinds[] = {VARY_NONE, VARY_L2, VARY_L3, VARY_L4};
  for (int ipv6 = 0; ipv6 < 2; ipv6++)
    for (int vlan = 0; vlan < 2; vlan++)
      for (int l3 = 0; l3 < 2; l3++)
        for (unsigned kind = 0; kind < 4; kind++) {
          struct stream_cfg s;
          memset(&s, 0, sizeof s);
          const uint8_t smac[6] = {2, 0, 0, 0, 0, 1}, dmac[6] = {2, 0, 0, 0, 0, 0xfe};
          memcpy(s.smac, smac, 6);
          memcpy(s.dmac, dmac, 6);
          s.l3 = l3;
          s.l4 = l3;
          s.ipv6 = ipv6;
          for (int i = 0; i < 16; i++) s.sip[i] = (uint8_t)(10 + i), s.dip[i] = (uint8_t)(200 - i);
          s.sport = 4000;
          s.dport = 65500; /* the L4 field wraps */
          s.vlan = vlan;
          s.vlan_tci = 0x2005;
          s.flows = 1000;
          s.vary = kinds[kind];
          struct frame_tmpl t;
          tmpl_init(&t, &s);
          unsigned len = frame_min_len(&s) + 19;
          const unsigned flows[][2] = {{0, 1}, {1, 0}, {5, 999}, {999, 0}, {7, 7}};
          for (unsigned f = 0; f < sizeof flows / sizeof flows[0]; f++) {
            uint8_t a[256], b[256];
            memset(a, 0xa5, sizeof a);
            memset(b, 0x5a, sizeof b);
            frame_build(&t, a, len, flows[f][0], 1, 0x42, 123456u, 0x123456789abcull);
            int ok = frame_reflow(&t, a, len, flows[f][1], 5, 0xfffffffeu, 0xfedcba987654ull);
            frame_build(&t, b, len, flows[f][1], 5, 0x42, 0xfffffffeu, 0xfedcba987654ull);
            cases++;
            if (!ok || memcmp(a, b, len)) printf("case ipv6=%d vlan=%d l3=%d vary=%u flow %u->%u: reflowed frame differs\n", ipv6, vlan, l3, kind, flows[f][0], flows[f][1]), bad++;
          }
        }
  struct stream_cfg e;
  memset(&e, 0, sizeof e);
  e.encap_len = 50;
  struct frame_tmpl te;
  tmpl_init(&te, &e);
  uint8_t buf[256] = {0};
  cases++;
  if (frame_reflow(&te, buf, 200, 1, 0, 0, 0)) printf("encapsulated stream: reflow did not refuse\n"), bad++;
  printf("%d cases, %d mismatches\n", cases, bad);
  return bad != 0;
}
