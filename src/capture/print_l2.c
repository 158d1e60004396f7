/*
 * print_l2.c - the packet printer's link layers and the non-IP, non-tunnel
 * messages, as tcpdump 4.99.3 prints them without -e/-v: Ethernet (VLAN and
 * QinQ tags skipped silently), Linux SLL/SLL2, raw IP, BSD NULL/LOOP; ARP;
 * ICMP (echo, unreachable, time exceeded) and ICMPv6 (echo, ND, RS/RA);
 * unknown EtherTypes as a hex dump. Does not print link headers (tcpdump's
 * -e), other ARP hardware types in detail, or other ICMP messages by name.
 * Part of the printer (print_int.h); no I/O but one if_indextoname per new
 * SLL2 interface index, cached.
 */
#include "capture/print_int.h"

#include "pkt/cursor.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void op_mac(struct tw_prn_out *o, const uint8_t *m)
{
	tw_prn_op(o, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static bool is_graph(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* tcpdump's hex_and_ascii_print with the "\n\t" indent. */
static void hexdump(struct tw_prn_out *o, const uint8_t *p, size_t n)
{
	char hex[48], asc[20];
	size_t off = 0;

	while (off < n) {
		size_t i, hl = 0, al = 0;

		for (i = 0; i < 16 && off + i < n; i++) {
			if (i % 2 == 0)
				hex[hl++] = ' ';
			hl += (size_t)snprintf(hex + hl, sizeof(hex) - hl, "%02x", p[off + i]);
			asc[al++] = is_graph(p[off + i]) ? (char)p[off + i] : '.';
		}
		hex[hl] = asc[al] = '\0';
		tw_prn_op(o, "\n\t0x%04zx: %-40s  %s", off, hex, asc);
		off += i;
	}
}

/* ---- ICMP ---- */

void tw_prn_icmp(struct tw_prn_out *o, const uint8_t *p, size_t cap, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (cap < 8) {
		tw_prn_trunc(o, "icmp");
		return;
	}
	uint8_t type = p[0], code = p[1];
	if ((type == 8 || type == 0) && cap >= 8) {
		tw_prn_op(o, "ICMP echo %s, id %u, seq %u, length %zu", type ? "request" : "reply",
			  tw_load_be16(p + 4), tw_load_be16(p + 6), len);
		return;
	}
	if (type == 3) {
		const uint8_t *iph = p + 8;
		size_t ihl;

		/* tcpdump reads the quoted header before printing anything */
		if (cap < 8 + 20 || cap < 8 + (size_t)(iph[0] & 15) * 4 + 4) {
			tw_prn_trunc(o, "icmp");
			return;
		}
		ihl = (size_t)(iph[0] & 15) * 4;
		tw_prn_addr(4, iph + 16, a, sizeof(a));
		if (code == 3 && ihl >= 20 && cap >= 8 + ihl + 4 && (iph[9] == 17 || iph[9] == 6)) {
			tw_prn_op(o, "ICMP %s %s port %u unreachable, length %zu", a,
				  iph[9] == 17 ? "udp" : "tcp", tw_load_be16(p + 8 + ihl + 2), len);
			return;
		}
		if (code == 2) {
			tw_prn_op(o, "ICMP %s protocol %u unreachable, length %zu", a, iph[9], len);
			return;
		}
		if (code == 1 || code == 0) {
			tw_prn_op(o, "ICMP %s %s unreachable, length %zu", code ? "host" : "net", a,
				  len);
			return;
		}
	}
	if (type == 11) {
		tw_prn_op(o, "ICMP time exceeded in-transit, length %zu", len);
		return;
	}
	tw_prn_op(o, "ICMP type-#%u, length %zu", type, len);
}

void tw_prn_icmp6(struct tw_prn_out *o, const uint8_t *p, size_t cap, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (cap < 1) {
		tw_prn_trunc(o, "icmp6");
		return;
	}
	uint8_t type = p[0];
	if (type == 128 || type == 129) {
		tw_prn_op(o, "ICMP6, echo %s", type == 128 ? "request" : "reply");
		if (cap < 8)
			tw_prn_trunc(o, "icmp6");
		else
			tw_prn_op(o, ", id %u, seq %u, length %zu", tw_load_be16(p + 4),
				  tw_load_be16(p + 6), len);
	} else if (type == 135 && cap >= 24)
		tw_prn_op(o, "ICMP6, neighbor solicitation, who has %s, length %zu",
			  tw_prn_addr(6, p + 8, a, sizeof(a)), len);
	else if (type == 136 && cap >= 24)
		tw_prn_op(o, "ICMP6, neighbor advertisement, tgt is %s, length %zu",
			  tw_prn_addr(6, p + 8, a, sizeof(a)), len);
	else if (type == 133)
		tw_prn_op(o, "ICMP6, router solicitation, length %zu", len);
	else if (type == 134)
		tw_prn_op(o, "ICMP6, router advertisement, length %zu", len);
	else
		tw_prn_op(o, "ICMP6, type-#%u, length %zu", type, len);
}

/* ---- link layers ---- */

static void arp_print(struct tw_prn_out *o, const uint8_t *p, size_t cap, size_t len)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	/* tcpdump reads the whole ARP body before printing anything */
	if (cap < 8 || cap < 8 + 2 * (size_t)p[4] + 2 * (size_t)p[5]) {
		tw_prn_trunc(o, "arp");
		return;
	}
	tw_prn_op(o, "ARP, ");
	uint16_t hrd = tw_load_be16(p), pro = tw_load_be16(p + 2), opc = tw_load_be16(p + 6);
	if (pro != 0x0800 || p[4] != 6 || p[5] != 4 || (hrd != 1 && hrd != 6)) {
		tw_prn_op(o, "hardware 0x%04x, protocol 0x%04x, length %zu", hrd, pro, len);
		return;
	}
	tw_prn_addr(4, p + 14, a, sizeof(a));
	tw_prn_addr(4, p + 24, b, sizeof(b));
	if (opc == 1) {
		static const uint8_t zero[6];
		tw_prn_op(o, "Request who-has %s", b);
		if (memcmp(p + 18, zero, 6) != 0) {
			tw_prn_op(o, " (");
			op_mac(o, p + 18);
			tw_prn_op(o, ")");
		}
		tw_prn_op(o, " tell %s, length %zu", a, len);
	} else if (opc == 2) {
		tw_prn_op(o, "Reply %s is-at ", a);
		op_mac(o, p + 8);
		tw_prn_op(o, ", length %zu", len);
	} else {
		tw_prn_op(o, "unknown op %u, length %zu", opc, len);
	}
}

/* An EtherType payload. Returns false when the type is not one we print. */
static bool ethertype_print(struct tw_printer *pr, struct tw_prn_out *o, uint16_t type,
			    const uint8_t *p, size_t cap, size_t len)
{
	switch (type) {
	case 0x0800: tw_prn_ip4(pr, o, p, cap, len); return true;
	case 0x86dd: tw_prn_ip6(pr, o, p, cap, len); return true;
	case 0x0806: arp_print(o, p, cap, len); return true;
	default: return false;
	}
}

void tw_prn_ether(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p, size_t cap,
		  size_t len)
{
	size_t off = 12;
	uint16_t type;

	if (cap < 14) {
		tw_prn_trunc(o, "ether");
		return;
	}
	type = tw_load_be16(p + 12);
	while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
		if (cap < off + 6) {
			tw_prn_trunc(o, "vlan");
			return;
		}
		off += 4;
		type = tw_load_be16(p + off);
	}
	off += 2;
	if (ethertype_print(pr, o, type, p + off, cap - off, len > off ? len - off : 0))
		return;
	op_mac(o, p + 6);
	tw_prn_op(o, " > ");
	op_mac(o, p);
	tw_prn_op(o, ", ethertype Unknown (0x%04x), length %zu: ", type, len);
	hexdump(o, p + off, cap - off);
}

static const char *sll_type(uint8_t t)
{
	static const char *const names[] = {"In", "B", "M", "P", "Out"};
	return t < 5 ? names[t] : "?";
}

static const char *if_name(struct tw_printer *pr, uint32_t index)
{
	unsigned i;

	for (i = 0; i < pr->nif; i++)
		if (pr->ifs[i].index == index)
			return pr->ifs[i].name;
	/* first sight of this index: one lookup, then cached */
	i = pr->nif < TW_PRN_IFCACHE ? pr->nif++ : index % TW_PRN_IFCACHE;
	pr->ifs[i].index = index;
	if (!if_indextoname(index, pr->ifs[i].name))
		snprintf(pr->ifs[i].name, sizeof(pr->ifs[i].name), "?");
	return pr->ifs[i].name;
}

void tw_prn_link(struct tw_printer *pr, struct tw_prn_out *o, int lt, const uint8_t *p, size_t cap,
		 size_t len)
{
	uint32_t af;

	switch (lt) {
	case TW_LT_EN10MB:
		tw_prn_ether(pr, o, p, cap, len);
		return;
	case TW_LT_SLL:
		if (cap < 16) {
			tw_prn_trunc(o, "sll");
			return;
		}
		if (!ethertype_print(pr, o, tw_load_be16(p + 14), p + 16, cap - 16,
				     len > 16 ? len - 16 : 0)) {
			tw_prn_op(o, "%3s ", sll_type(p[1]));
			tw_prn_op(o, "ethertype Unknown (0x%04x), length %zu: ", tw_load_be16(p + 14),
				  len);
			hexdump(o, p + 16, cap - 16);
		}
		return;
	case TW_LT_SLL2:
		if (cap < 20) {
			tw_prn_trunc(o, "sll2");
			return;
		}
		tw_prn_op(o, "%-5s %-3s ", if_name(pr, tw_load_be32(p + 4)), sll_type(p[10]));
		if (!ethertype_print(pr, o, tw_load_be16(p), p + 20, cap - 20,
				     len > 20 ? len - 20 : 0)) {
			tw_prn_op(o, "ifindex %u ethertype Unknown (0x%04x), length %zu: ",
				  tw_load_be32(p + 4), tw_load_be16(p), len);
			hexdump(o, p + 20, cap - 20);
		}
		return;
	case TW_LT_RAW:
	case 12:
	case 14:
		tw_prn_ip_any(pr, o, p, cap, len);
		return;
	case TW_LT_IPV4:
		tw_prn_ip4(pr, o, p, cap, len);
		return;
	case TW_LT_IPV6:
		tw_prn_ip6(pr, o, p, cap, len);
		return;
	case TW_LT_NULL:
	case TW_LT_LOOP:
		if (cap < 4) {
			tw_prn_trunc(o, lt == TW_LT_NULL ? "null" : "loop");
			return;
		}
		if (lt == TW_LT_LOOP) {
			af = tw_load_be32(p);
		} else {
			af = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			     (uint32_t)p[3] << 24;
			if (af & 0xffff0000u)
				af = tw_load_be32(p);
		}
		if (af == 2)
			tw_prn_ip4(pr, o, p + 4, cap - 4, len > 4 ? len - 4 : 0);
		else if (af == 24 || af == 28 || af == 30)
			tw_prn_ip6(pr, o, p + 4, cap - 4, len > 4 ? len - 4 : 0);
		else {
			tw_prn_op(o, "AF Unknown (%u), length %zu: ", af, len);
			hexdump(o, p + 4, cap - 4);
		}
		return;
	default:
		tw_prn_op(o, "link-type %d, length %zu", lt, len);
		return;
	}
}

const char *tw_print_linktype_name(int linktype)
{
	switch (linktype) {
	case TW_LT_NULL: return "NULL (BSD loopback)";
	case TW_LT_EN10MB: return "EN10MB (Ethernet)";
	case TW_LT_RAW:
	case 12:
	case 14: return "RAW (Raw IP)";
	case TW_LT_LOOP: return "LOOP (OpenBSD loopback)";
	case TW_LT_SLL: return "LINUX_SLL (Linux cooked v1)";
	case TW_LT_IPV4: return "IPV4 (Raw IPv4)";
	case TW_LT_IPV6: return "IPV6 (Raw IPv6)";
	case TW_LT_SLL2: return "LINUX_SLL2 (Linux cooked v2)";
	default: return "unknown";
	}
}
