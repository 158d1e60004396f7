/*
 * icept.h - `tcptwin intercept`'s engine: live capture of the target's
 * replies on one or more interfaces (AF_PACKET, kernel BPF from -F), each
 * reply decoded and handed to the channel server, which routes it to the
 * copy that registered it. Options and signals are the CLI's.
 */
#ifndef TW_RELAY_ICEPT_H
#define TW_RELAY_ICEPT_H

#include "relay/server.h"

#include <stdint.h>
#include <stdio.h>

struct tw_loop;

#define TW_ICEPT_MAX_IFACES 16

struct tw_icept_cfg {
	const char *ifaces;              /* -i IFACE[,IFACE] ("any" allowed) */
	const char *filter;              /* -F, required */
	uint32_t snaplen;                /* bytes kept per reply (headers; default 256) */
	uint32_t buffer_kb;              /* capture ring per interface */
	struct tw_relay_server_cfg srv;
};

struct tw_icept_stats {
	uint64_t frames, not_tcp, undecodable;
	uint64_t capture_drops;
	struct tw_relay_server_stats srv;
};

struct tw_icept;

void tw_icept_cfg_init(struct tw_icept_cfg *cfg);
int tw_icept_new(struct tw_loop *loop, const struct tw_icept_cfg *cfg, struct tw_icept **out,
		 char *err, size_t errlen);
void tw_icept_get_stats(struct tw_icept *ic, struct tw_icept_stats *st);
void tw_icept_print_stats(struct tw_icept *ic, FILE *out);
void tw_icept_free(struct tw_icept *ic);

#endif
