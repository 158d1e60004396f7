/*
 * print.h - one line per packet in tcpdump's format (tcpdump 4.99, -n), for
 * IPv4/IPv6 TCP and UDP, tunnels shown as tcpdump shows them. Relative TCP
 * sequence numbers per conversation (a fixed-size table made at init, LRU
 * replacement), or absolute with -S. Writes into a caller buffer; no I/O.
 */
#ifndef TW_CAPTURE_PRINT_H
#define TW_CAPTURE_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_frame;
struct tw_decode_cfg;

struct tw_printer;

struct tw_print_cfg {
	bool absolute_seq;       /* -S */
	bool nano;               /* print 9 fractional digits */
	bool decap;              /* print only the inner packet of a tunnel */
	const struct tw_decode_cfg *dcfg;
};

/* Allocates the conversation table once. NULL with errno on failure. */
struct tw_printer *tw_print_new(const struct tw_print_cfg *cfg);
void tw_print_free(struct tw_printer *pr);

/* Format frame F of LINKTYPE as one line (with '\n') into OUT. Returns the
 * length written (truncated to OUTLEN - 1 if needed, always NUL-terminated). */
size_t tw_print_frame(struct tw_printer *pr, int linktype, const struct tw_frame *f, char *out,
		      size_t outlen);

/* tcpdump's name for a link type, e.g. "EN10MB (Ethernet)". */
const char *tw_print_linktype_name(int linktype);

#endif
