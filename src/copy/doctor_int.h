/*
 * doctor_int.h - what doctor.c (the checks and the runner) and
 * doctor_probe.c (the probe sessions) share. Not for other modules.
 */
#ifndef TW_COPY_DOCTOR_INT_H
#define TW_COPY_DOCTOR_INT_H

#include "copy/doctor.h"
#include "relay/client.h"

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_loop;
struct tw_rtnl;
struct tw_sink;
struct doc_probes;

/* One distinct -x target. */
struct doc_target {
	struct tw_ap_ip ip;
	uint16_t port;
	char name[64];               /* "10.0.0.2:8080", "[2001:db8::2]:8080" */
	char addr[48];               /* "10.0.0.2" */
	bool route_ok;               /* a usable route, device up */
	int oif;
	char dev[IF_NAMESIZE];
	bool has_src;
	struct tw_ap_ip src;         /* the route's preferred source */
	uint32_t route_mtu;
	uint32_t send_mtu;           /* what copy sends at (-M or the route's) */
	bool mtu_ok;
	uint32_t probe_mtu;          /* the largest probe: send_mtu, capped at the route's */
};

/* One -s intercept. */
struct doc_icept {
	struct tw_doc_ctx *d;
	unsigned idx;
	char name[300];              /* HOST:PORT as given */
	char host[256];
	uint16_t port;
	struct tw_relay_client *cl;  /* NULL: it failed its check */
	bool lost;                   /* failed after the handshake */
	char lost_msg[400];
};

struct tw_doc_ctx {
	const struct tw_doc_cfg *cfg;
	tw_doc_out_fn out;
	void *arg;
	struct tw_doc_sum *sum;
	struct tw_loop *loop;
	struct tw_rtnl *nl;
	struct tw_sink *sink;
	struct doc_target t[TW_DOC_MAX_TARGETS];
	unsigned nt;
	struct doc_icept ic[TW_RELAY_MAX_PEERS];
	unsigned nic;
	struct doc_probes *pr;       /* the probe round in progress, for the reply callback */
	char text[2048];             /* a line being built */
};

/* Report one line (counted in the summary). */
void tw_doc_emit(struct tw_doc_ctx *d, enum tw_doc_status st, const char *name,
		 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Append to d->text at *POS (bounded; *POS never passes the buffer). */
void tw_doc_add(struct tw_doc_ctx *d, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The relay client's callbacks; ARG is the struct doc_icept. */
void tw_doc_on_reply(void *arg, const struct tw_wire_reply *r);
void tw_doc_on_fail(void *arg, const char *msg);

/* The probe and path-mtu checks of every target with a route (raw mode). */
int tw_doc_probe(struct tw_doc_ctx *d);

/* Socket mode: a TCP connect() to each target with a route. */
void tw_doc_socket_targets(struct tw_doc_ctx *d);

/* A plain TCP connect() to IP:PORT within TIMEOUT_MS, closed at once.
 * Returns 0 (connected; *ELAPSED_MS set, FROM = the local address) or
 * -errno (-ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, ...). */
int tw_doc_connect(const struct tw_ap_ip *ip, uint16_t port, unsigned timeout_ms,
		   unsigned *elapsed_ms, char *from, size_t fromlen);

#endif
