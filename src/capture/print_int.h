/*
 * print_int.h - internals shared by the packet printer's files only
 * (print.c: time, IP, TCP, UDP, sequence table; print_l2.c: link layers,
 * ARP, ICMP; print_tun.c: VXLAN, Geneve, GRE, ERSPAN). Not for other modules:
 * they use print.h. Every dissector below takes P (the layer's first byte),
 * CAP (bytes captured from P) and LEN (bytes on the wire from P), appends to
 * O, and reads nothing past P + CAP.
 */
#ifndef TW_CAPTURE_PRINT_INT_H
#define TW_CAPTURE_PRINT_INT_H

#include "capture/print.h"
#include "pkt/decode.h"

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Conversation table for relative sequence numbers: set-associative, fixed
 * size, least recently used way replaced when a set is full. */
#define TW_PRN_CONV_SETS 1024
#define TW_PRN_CONV_WAYS 8
#define TW_PRN_CONV_KEYLEN 40
#define TW_PRN_IFCACHE 16

struct tw_prn_conv {
	uint8_t key[TW_PRN_CONV_KEYLEN];
	uint32_t seq, ack;
	uint32_t stamp;                  /* 0 = free */
};

struct tw_prn_ifname {
	uint32_t index;
	char name[IF_NAMESIZE];
};

struct tw_printer {
	struct tw_print_cfg cfg;
	struct tw_decode_cfg dcfg;
	uint32_t clock;
	int64_t tm_sec;                  /* cache of the last localtime_r */
	int tm_h, tm_m, tm_s;
	unsigned nif;
	struct tw_prn_ifname ifs[TW_PRN_IFCACHE];
	struct tw_prn_conv conv[TW_PRN_CONV_SETS * TW_PRN_CONV_WAYS];
};

/* The line being built: B holds CAP bytes, LEN used (always < CAP). */
struct tw_prn_out {
	char *b;
	size_t cap, len;
	size_t line0;                    /* where the packet text starts (after the time) */
	int depth;                       /* IP layers entered, to stop encapsulation loops */
};

/* Append printf-style text; silently clipped at the end of the buffer. */
void tw_prn_op(struct tw_prn_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* tcpdump's truncation marker " [|PROTO]". */
void tw_prn_trunc(struct tw_prn_out *o, const char *proto);

/* Text form of a 4-byte (VER 4) or 16-byte (VER 6) address, in BUF. */
const char *tw_prn_addr(int ver, const uint8_t *a, char *buf, size_t len);

/* IPv4 / IPv6 packets, and a raw IP packet of either version (chosen by the
 * first nibble, IPv4 when nothing was captured). In print.c. */
void tw_prn_ip4(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p, size_t cap,
		size_t len);
void tw_prn_ip6(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p, size_t cap,
		size_t len);
void tw_prn_ip_any(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p, size_t cap,
		   size_t len);

/* A frame of link type LT, an Ethernet frame, ICMP and ICMPv6 messages.
 * In print_l2.c. */
void tw_prn_link(struct tw_printer *pr, struct tw_prn_out *o, int lt, const uint8_t *p, size_t cap,
		 size_t len);
void tw_prn_ether(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p, size_t cap,
		  size_t len);
void tw_prn_icmp(struct tw_prn_out *o, const uint8_t *p, size_t cap, size_t len);
void tw_prn_icmp6(struct tw_prn_out *o, const uint8_t *p, size_t cap, size_t len);

/* UDP payload P between ports SP and DP: printed as VXLAN or Geneve when a
 * port is the configured one. Returns false (nothing printed) otherwise.
 * GRE payload of IP protocol 47. In print_tun.c. */
bool tw_prn_udp_tunnel(struct tw_printer *pr, struct tw_prn_out *o, uint16_t sp, uint16_t dp,
		       const uint8_t *p, size_t cap, size_t len);
void tw_prn_gre(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p, size_t cap,
		size_t len);

#endif
