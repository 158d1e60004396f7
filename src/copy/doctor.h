/*
 * doctor.h - `tcptwin doctor`: the pre-flight of a copy deployment, run on
 * the host that will run `tcptwin copy`, with copy's -x/-s/-i/-o/-M.
 *
 * Checks, each reported as one line (PASS, FAIL with the fix, or SKIP):
 *   route      each target has a route here and its device is up (-o: the
 *              route through DEV and the next hop's MAC);
 *   raw-send   the raw-IP sink (or AF_PACKET on -o DEV) opens;
 *   capture    -i opens: an interface is up and AF_PACKET may capture on it,
 *              a file is readable, a vxlan:/geneve: port can be bound;
 *   mtu        the MTU copy sends at (-M, else the route's) against the
 *              route's MTU and the capture's super-packets (tw_doc_mtu_rule);
 *   rp_filter  this host's values (informational: reverse-path filtering
 *              checks received packets, never the forged ones this host
 *              sends; the target's filter is what the probe tests);
 *   conntrack  this host's table headroom, and the NOTRACK rule to add;
 *   intercept  each -s intercept completes the handshake (version, secret,
 *              allowed networks);
 *   probe      one forged SYN per target from the probe client, whose SYN-ACK
 *              must come back through an intercept; when it does not, a SYN
 *              from the assistant's own address and a plain connect() from
 *              this host narrow the cause down;
 *   path-mtu   forged SYNs padded to the send MTU and smaller sizes: which
 *              sizes reach the target (no ICMP "fragmentation needed" ever
 *              comes back for a forged source);
 * and in socket mode (--mode socket) only route, capture and a TCP connect()
 * to each target.
 *
 * Every probe connection is reset afterwards. Packets go only to the -x
 * targets. Does not change any setting of the host, and does not print:
 * the caller gets each line through a callback.
 */
#ifndef TW_COPY_DOCTOR_H
#define TW_COPY_DOCTOR_H

#include "copy/addrplan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_secret;

enum tw_doc_mode {
	TW_DOC_RAW = 0,
	TW_DOC_SOCKET,
};

enum tw_doc_status {
	TW_DOC_PASS = 0,
	TW_DOC_FAIL,
	TW_DOC_SKIP,
};

#define TW_DOC_DEF_TIMEOUT_MS 2000u
#define TW_DOC_MAX_TARGETS 16

struct tw_doc_cfg {
	struct tw_ap_cfg ap;              /* -x rules; -c (its first address is the probe client) */
	enum tw_doc_mode mode;
	const char *servers;              /* -s HOST[:PORT][,...] */
	uint16_t port;                    /* -p: intercept port when -s names none */
	const struct tw_secret *secret;   /* --secret-file, NULL = none */
	uint16_t ver_min, ver_max;        /* wire versions (0 = this build's) */
	const char *input;                /* -i, NULL = not checked */
	const char *outdev;               /* -o DEV, NULL = raw IP */
	uint32_t mtu;                     /* -M, 0 = the route's */
	bool has_probe_client;            /* --probe-client */
	struct tw_ap_ip probe_client;
	unsigned timeout_ms;              /* per wait (connect, handshake, probe answers) */
};

void tw_doc_cfg_init(struct tw_doc_cfg *cfg);

/* One result line. TEXT is the detail (PASS, SKIP) or "what is wrong;
 * fix: what to do" (FAIL). Both strings live until the callback returns. */
struct tw_doc_line {
	enum tw_doc_status status;
	const char *name;
	const char *text;
};

typedef void (*tw_doc_out_fn)(void *arg, const struct tw_doc_line *l);

struct tw_doc_sum {
	unsigned pass, fail, skip;
};

/* Run every check, calling OUT for each line as it is known. Returns 0 (the
 * lines say what passed) or -errno when doctor itself could not run
 * (-ENOMEM, no event loop). */
int tw_doctor_run(const struct tw_doc_cfg *cfg, tw_doc_out_fn out, void *arg,
		  struct tw_doc_sum *sum);

/* ---- pure rules, exposed for tests (tests/unit/test_doctor.c) ---------- */

/* A number from a /proc or /sys file's text: decimal digits, then only
 * white space. Returns 0 or -EINVAL. */
int tw_doc_parse_u64(const char *text, uint64_t *out);

/* The value of rp_filter in effect on an interface: max(all, IF). */
int tw_doc_rp_effective(int all, int dev);

/* Whether a conntrack table holding COUNT of MAX entries is above 80 %. */
bool tw_doc_conntrack_full(uint64_t count, uint64_t max);

/* The MTU rule. Inputs: the target's IP version, -M (0 = none), the MTU of
 * the route toward the target (0 = unknown: 1500 assumed, as copy does) and
 * its device, and the capture interface (-i; NULL when a file or a mirror)
 * with its MTU and whether GRO/LRO merge packets there (-1 = unknown).
 * The send MTU is -M, else the route's. FAIL when -M is above the route's
 * MTU (raw sends above it fail with EMSGSIZE: IP_HDRINCL packets are never
 * fragmented) or the send MTU is below the family's minimum (576 for IPv4,
 * 1280 for IPv6: too small for TCP segments with options next to captured
 * 1500-byte packets). Otherwise PASS, saying what is re-segmented. Writes the
 * line's text into BUF and the send MTU into *SEND_MTU. */
struct tw_doc_mtu {
	int ipver;
	uint32_t opt_mtu;
	uint32_t route_mtu;
	const char *dev;
	const char *cap_if;
	uint32_t cap_mtu;
	int cap_gro;
};
enum tw_doc_status tw_doc_mtu_rule(const struct tw_doc_mtu *m, uint32_t *send_mtu, char *buf,
				   size_t len);

#define TW_DOC_MAX_SIZES 8

/* The IP packet sizes the path-MTU probe tries: SEND_MTU first, then the
 * usual smaller path MTUs (1500, 1480, 1450, 1400, 1280, 576 for IPv4;
 * IPv6 stops at 1280) below it, descending. Returns how many (<= CAP). */
unsigned tw_doc_mtu_sizes(int ipver, uint32_t send_mtu, uint32_t *sizes, unsigned cap);

/* The largest of SIZES[0..N-1] whose probe was answered (OK[i]), 0 if none. */
uint32_t tw_doc_mtu_best(const uint32_t *sizes, const bool *ok, unsigned n);

/* The shortest prefix holding LO..HI (same version): its length, and the
 * network address in *NET. */
int tw_doc_cover(const struct tw_ap_ip *lo, const struct tw_ap_ip *hi, struct tw_ap_ip *net);

/* The fix for an intercept that tw_relay_client_open refused with RC and
 * message ERR (names the --secret-file, --allow, version or connection
 * problem). Never NULL. */
const char *tw_doc_relay_fix(int rc, const char *err);

#endif
