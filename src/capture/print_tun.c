/*
 * print_tun.c - the packet printer's tunnels, as tcpdump 4.99.3 prints them
 * without -v: VXLAN and Geneve (on the UDP ports of cfg->dcfg) and GRE. ERSPAN
 * inside GRE prints as tcpdump does ("gre-proto-0x88be"); with cfg->decap the
 * tunnel text is dropped and only the inner packet follows the time, mirrored
 * ERSPAN II/III frames included. Does not print tunnel options in detail
 * (Geneve options are counted, not decoded) nor any tunnel tcpdump would not
 * recognise on those ports. Part of the printer (print_int.h); no I/O.
 */
#include "capture/print_int.h"

#include "pkt/cursor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --decap: forget what the line holds after the time. */
static void decap_restart(struct tw_prn_out *o)
{
	o->len = o->line0;
	o->b[o->len] = '\0';
}

/* A protocol type both Geneve and GRE carry: IPv4, IPv6, Ethernet. */
static bool inner_known(uint16_t proto)
{
	return proto == 0x0800 || proto == 0x86dd || proto == 0x6558;
}

/* Print the tunnel payload of type PROTO. False (nothing printed) when the
 * type is not one of inner_known's. */
static bool inner_print(struct tw_printer *pr, struct tw_prn_out *o, uint16_t proto,
			const uint8_t *p, size_t cap, size_t len)
{
	switch (proto) {
	case 0x0800: tw_prn_ip4(pr, o, p, cap, len); return true;
	case 0x86dd: tw_prn_ip6(pr, o, p, cap, len); return true;
	case 0x6558: tw_prn_ether(pr, o, p, cap, len); return true;
	default: return false;
	}
}

static void vxlan_print(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p,
			size_t cap, size_t len)
{
	if (!pr->cfg.decap) {
		/* field by field, so a cut header ends where tcpdump's does */
		if (len < 8) {
			tw_prn_op(o, "VXLAN (invalid)");
			return;
		}
		tw_prn_op(o, "VXLAN");
		if (cap >= 1)
			tw_prn_op(o, ", flags [%s] (0x%02x), ", p[0] & 0x08 ? "I" : "none", p[0]);
		if (cap >= 7)
			tw_prn_op(o, "vni %u\n", (unsigned)(tw_load_be32(p + 3) & 0xffffff));
		if (cap < 8) {
			tw_prn_trunc(o, "vxlan");
			return;
		}
	} else {
		if (len < 8 || cap < 8) {
			tw_prn_op(o, "VXLAN");
			tw_prn_op(o, len < 8 ? " (invalid)" : " [|vxlan]");
			return;
		}
		decap_restart(o);
	}
	tw_prn_ether(pr, o, p + 8, cap - 8, len - 8);
}

static void geneve_print(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p,
			 size_t cap, size_t len)
{
	size_t olen;
	uint16_t proto;

	if (len < 8) {
		tw_prn_op(o, "Geneve [length %zu < 8] (invalid)", len);
		return;
	}
	if (cap < 8) {
		tw_prn_op(o, "Geneve");
		tw_prn_trunc(o, "geneve");
		return;
	}
	if (p[0] >> 6) {
		tw_prn_op(o, "Geneve ERROR: unknown-version %u", p[0] >> 6);
		return;
	}
	olen = (size_t)(p[0] & 0x3f) * 4;
	proto = tw_load_be16(p + 2);
	if (pr->cfg.decap && len >= 8 + olen && cap >= 8 + olen && inner_known(proto)) {
		decap_restart(o);
	} else {
		tw_prn_op(o, "Geneve, Flags [%s%s%s]", p[1] & 0x80 ? "O" : "",
			  p[1] & 0x40 ? "C" : "", p[1] & 0xc0 ? "" : "none");
		tw_prn_op(o, ", vni 0x%x", (unsigned)(tw_load_be32(p + 4) >> 8));
		if (len < 8 + olen) {
			tw_prn_op(o, " truncated-geneve - %zu bytes missing", 8 + olen - len);
			return;
		}
		if (cap < 8 + olen) {
			tw_prn_trunc(o, "geneve");
			return;
		}
		if (olen)
			tw_prn_op(o, ", options [%zu bytes]", olen);
		tw_prn_op(o, ": ");
	}
	p += 8 + olen;
	cap -= 8 + olen;
	len -= 8 + olen;
	if (!inner_print(pr, o, proto, p, cap, len))
		tw_prn_op(o, "geneve-proto-0x%x", proto);
}

bool tw_prn_udp_tunnel(struct tw_printer *pr, struct tw_prn_out *o, uint16_t sp, uint16_t dp,
		       const uint8_t *p, size_t cap, size_t len)
{
	uint16_t vx = pr->dcfg.vxlan_port, gn = pr->dcfg.geneve_port;

	if (vx && (sp == vx || dp == vx))
		vxlan_print(pr, o, p, cap, len);
	else if (gn && (sp == gn || dp == gn))
		geneve_print(pr, o, p, cap, len);
	else
		return false;
	return true;
}

/* ERSPAN (GRE type 0x88be: I without the S bit, II with it; 0x22eb: III)
 * with --decap: the mirrored frame alone. IN is the GRE payload. */
static void erspan_decap(struct tw_printer *pr, struct tw_prn_out *o, uint16_t proto,
			 uint16_t gre_flags, const uint8_t *in, size_t icap, size_t ilen)
{
	size_t eh = 0;
	bool ip_inner = false;

	/* ERSPAN I has no header (GRE without S); II has 8 bytes;
	 * III 12, plus 8 platform bytes when O is set; FT=2 means IP. */
	if (proto == 0x88be && (gre_flags & 0x1000))
		eh = 8;
	if (proto == 0x22eb) {
		if (icap < 12) {
			tw_prn_trunc(o, "erspan");
			return;
		}
		eh = 12 + (in[11] & 1 ? 8 : 0);
		ip_inner = ((in[10] >> 2) & 0x1f) == 2;
	}
	if (icap < eh || ilen < eh) {
		tw_prn_trunc(o, "erspan");
		return;
	}
	decap_restart(o);
	if (ip_inner)
		tw_prn_ip_any(pr, o, in + eh, icap - eh, ilen - eh);
	else
		tw_prn_ether(pr, o, in + eh, icap - eh, ilen - eh);
}

void tw_prn_gre(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p, size_t cap,
		size_t len)
{
	struct tw_rd rd;
	uint16_t flags, proto;

	tw_rd_init(&rd, p, cap < len ? cap : len);
	flags = tw_rd_be16(&rd);
	if (rd.err) {
		tw_prn_trunc(o, "gre");
		return;
	}
	tw_prn_op(o, "GREv%u", flags & 7);
	if (flags & 7) {
		tw_prn_op(o, " ERROR: unknown-version");
		return;
	}
	proto = tw_rd_be16(&rd);
	if (flags & 0xc000) {
		uint16_t sum = tw_rd_be16(&rd), off = tw_rd_be16(&rd);
		if (!rd.err)
			tw_prn_op(o, ", sum 0x%x, off 0x%x", sum, off);
	}
	if (flags & 0x2000) {
		uint32_t key = tw_rd_be32(&rd);
		if (!rd.err)
			tw_prn_op(o, ", key=0x%x", key);
	}
	if (flags & 0x1000) {
		uint32_t seq = tw_rd_be32(&rd);
		if (!rd.err)
			tw_prn_op(o, ", seq %u", seq);
	}
	if (rd.err) {
		tw_prn_trunc(o, "gre");
		return;
	}
	tw_prn_op(o, ", length %zu: ", len);

	size_t hl = rd.pos;
	const uint8_t *in = p + hl;
	size_t icap = cap > hl ? cap - hl : 0, ilen = len > hl ? len - hl : 0;
	bool dc = pr->cfg.decap && pr->dcfg.gre;

	if (dc && (proto == 0x88be || proto == 0x22eb)) {
		erspan_decap(pr, o, proto, flags, in, icap, ilen);
		return;
	}
	if (dc && inner_known(proto))
		decap_restart(o);
	if (!inner_print(pr, o, proto, in, icap, ilen))
		tw_prn_op(o, "gre-proto-0x%x", proto);
}
