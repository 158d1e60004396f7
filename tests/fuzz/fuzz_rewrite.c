/*
 * fuzz_rewrite.c - libFuzzer target for blast's frame path: tw_rw_frame on
 * an arbitrary Ethernet frame (MAC, IPv4 and IPv6 maps, port maps, --unique-ip,
 * --fixcsum, --mtu-trunc as byte 0 chooses), then re-segmentation of the
 * result to an MTU of 576 as blast does for packets above the MTU; and the
 * option parsers (MAC, IP maps, port maps) on the input as a string.
 * Checks: the frame never grows, a truncated packet fits the MTU, every
 * segment fits the MTU and its buffer. Does not check field values (the
 * unit tests do).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blast/rewrite.h"
#include "pkt/decode.h"
#include "pkt/reseg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MTU 576

static uint8_t frame[70000], seg[2048];

static void parsers(const uint8_t *data, size_t size)
{
	char s[256];
	struct tw_rw_ipmap im[TW_RW_MAX_MAPS];
	struct tw_rw_portmap pm[TW_RW_MAX_PORTS];
	struct tw_rw_ipmap6 im6[TW_RW_MAX_MAPS];
	uint8_t mac[6], a6[16] = {0xfd};
	unsigned n = 0, n6 = 0;
	uint32_t a = 0x0a000001;
	uint16_t p = 80;

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)tw_rw_parse_mac(s, mac);
	if (tw_rw_parse_ipmap46(s, im, &n, im6, &n6) == 0) {
		(void)tw_rw_map_ip(im, n, &a);
		(void)tw_rw_map_ip6(im6, n6, a6);
	}
	CHECK(n <= TW_RW_MAX_MAPS && n6 <= TW_RW_MAX_MAPS);
	n = 0;
	if (tw_rw_parse_portmap(s, pm, &n) == 0)
		(void)tw_rw_map_port(pm, n, &p);
	CHECK(n <= TW_RW_MAX_PORTS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_rw_cfg c = {.mtu = MTU};
	struct tw_reseg rs;
	struct tw_pkt p;
	size_t len, l3off = 0;
	unsigned n = 0;
	int rc;

	if (size < 1 || size - 1 > sizeof(frame))
		return 0;
	if (data[0] & 0x80) {
		parsers(data + 1, size - 1);
		return 0;
	}
	c.has_dstmac = data[0] & 1;
	c.fixcsum = data[0] & 2;
	c.mtu_trunc = data[0] & 4;
	if (data[0] & 8) {
		(void)tw_rw_parse_ipmap("10.0.0.0/8:192.168.0.0/16,0.0.0.0/0:10.1.0.0/16", c.srcmap, &n);
		c.nsrcmap = n;
		n = 0;
		(void)tw_rw_parse_ipmap("0.0.0.0/1:172.16.0.0/12", c.dstmap, &n);
		c.ndstmap = n;
		n = 0;
		(void)tw_rw_parse_ipmap46("[::/1]:[fd00::/8],[8000::/3]:[2001:db8::/32]", c.dstmap, &n,
					  c.dstmap6, &c.ndstmap6);
		(void)tw_rw_parse_ipmap46("[::/0]:[fd00:1::/61]", c.srcmap, &n, c.srcmap6,
					  &c.nsrcmap6);
	}
	if (data[0] & 16) {
		n = 0;
		(void)tw_rw_parse_portmap("1-1000:2000,8080:9090,0-65535:7@", c.port, &n);
		c.nport = n;
	}
	len = size - 1;
	memcpy(frame, data + 1, len);
	if (tw_pkt_decode(NULL, TW_LT_EN10MB, frame, len, len, &p) == 0)
		l3off = (size_t)(p.l3 - frame);
	rc = tw_rw_frame(&c, frame, &len, l3off, (data[0] & 32) ? 3 : 0);
	CHECK(len <= size - 1);
	if (rc > 0 && (rc & TW_RW_TRUNC))
		CHECK(len - l3off == MTU);
	/* blast re-segments TCP packets above the MTU */
	if (tw_pkt_decode(NULL, TW_LT_EN10MB, frame, len, len, &p) == 0 && p.proto == 6 && p.l4 &&
	    !p.truncated && !p.frag && p.ip_len > MTU &&
	    tw_reseg_init(&rs, &p, tw_reseg_mss(&p, MTU, 0)) == 0) {
		int k, guard = 0;

		while ((k = tw_reseg_next(&rs, seg, sizeof(seg))) > 0 && guard++ < 70000)
			CHECK(k <= MTU);
	}
	return 0;
}
