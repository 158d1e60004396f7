/*
 * addrplan.h - the address plan of `tcptwin copy`: which captured sessions
 * are replayed, to which target, and from which (client IP, client port).
 *
 * Three pure parts and one allocator:
 *  - parsers for TCPCopy's -x, -c, -n, -r (same meanings, plus IPv6 and CIDR)
 *    and --port-range, filling a struct tw_ap_cfg; each error returns -EINVAL
 *    with a one-line message naming the option and the bad part;
 *  - tw_ap_match(): the -x rule a captured client->server packet falls under;
 *  - tw_ap_sample(): the -r decision, a deterministic hash of the captured
 *    client IP and port (every packet of a session gets the same answer);
 *  - struct tw_ap: hands out a FRESH replay (client IP, client port) for each
 *    replayed session and each of its -n copies (DESIGN.md §4.3): no two live
 *    sessions share one, and a released tuple is reused only after a
 *    quarantine (default 120 s, twice a 60 s TIME_WAIT) so the target never
 *    meets a tuple it may still hold. TCPCopy shifts ports at random and
 *    loses 18 % at -n 3 and up to half at 10k short connections/s.
 *
 * Allocation: with -c, each -c address owns a port list over the port range
 * (default 1024-65535, target ports of -x skipped) ordered by release time:
 * O(1) allocate (the original port when it is free, else the list head if
 * its quarantine has passed) and O(1) release (append). The original client
 * IP sticks to one -c address (a hash); copy i starts at the next address.
 * Without -c the original client IP is kept; its live and quarantined tuples
 * sit in a hash table of bounded size and a fresh port is found by up to
 * TW_AP_PROBES hashed probes (the original port first when it is in the
 * range). In both modes the original port is kept whenever it is free, so a
 * single-copy replay looks like the capture. All memory is allocated by
 * tw_ap_create(); when no tuple is free the allocation is refused and
 * counted, and the caller waits or ends the session.
 *
 * Time is the caller's monotonic clock in ns; nothing here reads a clock,
 * logs, or does I/O. Not thread-safe: one plan per worker.
 */
#ifndef TW_COPY_ADDRPLAN_H
#define TW_COPY_ADDRPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_AP_MAX_RULES    64        /* -x rules */
#define TW_AP_MAX_CRANGES  64        /* -c items (address, range or block) */
#define TW_AP_MAX_CADDRS   4096      /* -c addresses in all, as TCPCopy */
#define TW_AP_MAX_COPIES   1023      /* -n, as TCPCopy */
#define TW_AP_QUARANTINE_NS (120ull * 1000000000ull)
#define TW_AP_MAX_QUARANTINE_NS (86400ull * 1000000000ull)
#define TW_AP_DEF_MAX_TUPLES (1u << 21)  /* without -c: live + quarantined */
#define TW_AP_MAX_DENSE_BYTES (1ull << 30) /* with -c: addresses x ports x 8 B */
#define TW_AP_PROBES       64        /* without -c: port probes per allocation */
#define TW_AP_SPILL        8         /* with -c: addresses tried after the sticky one */

/* An IP address: ver 4 or 6; IPv4 in the first 4 bytes, the rest zero
 * (the layout of struct tw_pkt's src/dst). */
struct tw_ap_ip {
	uint8_t ver;
	uint8_t a[16];
};

/* One -x item: captured server [IP:]port -> target IP:port, optional MACs
 * (TCPCopy's --pcap-send form: source MAC and next-hop MAC). */
struct tw_ap_rule {
	bool has_src_ip;
	bool has_src_mac, has_dst_mac;
	struct tw_ap_ip src_ip;          /* the online server's address, if given */
	uint16_t src_port;               /* the online server's port */
	struct tw_ap_ip dst_ip;          /* the target */
	uint16_t dst_port;
	uint8_t src_mac[6], dst_mac[6];
};

/* One -c item as the inclusive range lo..hi (same ver). */
struct tw_ap_crange {
	struct tw_ap_ip lo, hi;
};

struct tw_ap_cfg {
	struct tw_ap_rule rule[TW_AP_MAX_RULES];
	int nrules;
	struct tw_ap_crange crange[TW_AP_MAX_CRANGES];
	int ncrange;
	uint32_t ncaddr;                 /* addresses in crange[] (overlaps counted twice) */
	uint16_t copies;                 /* -n: 1..1023, default 1 */
	uint8_t percent;                 /* -r: 1..100, default 100 */
	uint16_t port_lo, port_hi;       /* client ports handed out, default 1024-65535 */
	uint64_t quarantine_ns;          /* default TW_AP_QUARANTINE_NS */
	uint32_t max_tuples;             /* without -c; default TW_AP_DEF_MAX_TUPLES */
	uint64_t seed;                   /* hash seed for -r, -c stickiness and probes */
};

/* Defaults: no rule, no -c, one copy, 100 %, ports 1024-65535, 120 s. */
void tw_ap_cfg_init(struct tw_ap_cfg *cfg);

/*
 * Option parsers. -x and -c append to what earlier calls gave (the option
 * may be repeated); -n, -r and --port-range replace. On error they return
 * -EINVAL, leave cfg unchanged, and write one printable line (no newline)
 * such as "-x: bad target port '99999' in '80-10.0.0.2:99999'" into
 * err[errlen] (err may be NULL).
 *
 * -x  [srcIP:]srcPort[@MAC]-targetIP:targetPort[@MAC][,...]
 *     IPv6 addresses in brackets: [2001:db8::1]:80-[2001:db8::2]:8080
 * -c  ADDR | a.b.c.x (= a.b.c.1-a.b.c.254) | ADDR-ADDR | ADDR/LEN [,...]
 *     IPv4 or IPv6 (brackets optional). A CIDR block gives its host
 *     addresses: IPv4 up to /30 without network and broadcast, IPv6 up to
 *     /126 without the all-zero (subnet-router anycast) address. Host bits
 *     set in ADDR/LEN are ignored. At most TW_AP_MAX_CADDRS addresses.
 * -n  N, 1..1023        -r  PERCENT, 1..100        --port-range LO-HI
 */
int tw_ap_parse_x(struct tw_ap_cfg *cfg, const char *s, char *err, size_t errlen);
int tw_ap_parse_c(struct tw_ap_cfg *cfg, const char *s, char *err, size_t errlen);
int tw_ap_parse_n(struct tw_ap_cfg *cfg, const char *s, char *err, size_t errlen);
int tw_ap_parse_r(struct tw_ap_cfg *cfg, const char *s, char *err, size_t errlen);
int tw_ap_parse_ports(struct tw_ap_cfg *cfg, const char *s, char *err, size_t errlen);

/* A numeric IPv4 or IPv6 address (IPv6 optionally in brackets) of exactly
 * LEN bytes of S. Returns 0 or -EINVAL. */
int tw_ap_parse_ip(const char *s, size_t len, struct tw_ap_ip *out);

/* Formats IP into buf (IPv6 without brackets); returns buf. */
const char *tw_ap_ip_str(const struct tw_ap_ip *ip, char *buf, size_t len);

/*
 * The -x rule for a captured client->server packet to DST (ver, 16 bytes
 * as in struct tw_pkt) port DPORT, or NULL. A rule naming the server IP wins
 * over one without; among equals the first whose target the session can be
 * replayed to wins (a target of the packet's IP version, or with -c one of a
 * version -c has addresses of: "80-10.0.0.2:8080,80-[fd00::2]:8080" sends
 * IPv6 sessions to the IPv6 target), else the first given (tw_ap_alloc then
 * refuses it with -EAFNOSUPPORT). Pure; per packet.
 */
const struct tw_ap_rule *tw_ap_match(const struct tw_ap_cfg *cfg, uint8_t ver,
				     const uint8_t dst[16], uint16_t dport);

/* -r: whether the session of captured client SRC:SPORT is replayed. The
 * same answer for every packet of the session, across runs (cfg->seed). */
bool tw_ap_sample(const struct tw_ap_cfg *cfg, uint8_t ver, const uint8_t src[16],
		  uint16_t sport);

/* ---- the tuple allocator ------------------------------------------------ */

struct tw_ap;

/* A replay tuple handed out by tw_ap_alloc; give it back unchanged to
 * tw_ap_release. ref is the allocator's own handle. */
struct tw_ap_tuple {
	struct tw_ap_ip ip;
	uint16_t port;
	uint32_t ref;
};

struct tw_ap_stats {
	uint64_t allocs;                 /* tuples handed out */
	uint64_t kept_port;              /* ... that kept the captured client port */
	uint64_t spilled;                /* ... on another -c address than the sticky one */
	uint64_t releases;
	uint64_t refused;                /* allocations refused: no tuple free */
	uint64_t bad_release;            /* releases of a tuple not live (caller bug) */
	uint64_t probes;                 /* without -c: port probes beyond the first try */
	uint32_t live;                   /* tuples held now */
	uint32_t naddr;                  /* -c addresses after removing duplicates */
	uint32_t nports;                 /* ports per address (range minus target ports) */
	size_t bytes;                    /* memory allocated at creation */
};

/*
 * Builds the allocator for CFG (copied as needed; cfg may go afterwards).
 * NOW_NS is the caller's monotonic clock. Returns 0, -EINVAL with a message
 * in err (no port left in the range, -c too large for
 * TW_AP_MAX_DENSE_BYTES, bad sizes), or -ENOMEM.
 */
int tw_ap_create(struct tw_ap **out, const struct tw_ap_cfg *cfg, uint64_t now_ns,
		 char *err, size_t errlen);
void tw_ap_destroy(struct tw_ap *ap);

/*
 * A fresh tuple for copy COPY (0..cfg->copies-1) of the session whose
 * captured client is ORIG:ORIG_PORT, replayed to a target of IP version
 * TARGET_VER. Returns 0 and fills *out; -EAGAIN when no tuple is free now
 * (counted in refused; retry later: quarantined tuples come back with
 * time); -EAFNOSUPPORT when no client address of the target's IP version
 * exists (no -c address of that version, or without -c a captured client of
 * the other version); -EINVAL for a bad argument. NOW_NS going backwards is
 * treated as the latest time seen.
 */
int tw_ap_alloc(struct tw_ap *ap, const struct tw_ap_ip *orig, uint16_t orig_port,
		uint8_t target_ver, unsigned copy, uint64_t now_ns, struct tw_ap_tuple *out);

/* Gives back a tuple from tw_ap_alloc when its session ends; it becomes
 * free again after the quarantine. Returns 0, or -EINVAL (counted in
 * bad_release, nothing changed) for a tuple that is not live. */
int tw_ap_release(struct tw_ap *ap, const struct tw_ap_tuple *t, uint64_t now_ns);

void tw_ap_get_stats(const struct tw_ap *ap, struct tw_ap_stats *st);

#endif
