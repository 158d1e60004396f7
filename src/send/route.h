/*
 * route.h - what the kernel's routing and neighbour tables say about a
 * destination, asked over rtnetlink (plain NETLINK_ROUTE socket, no libmnl):
 *   - the route (RTM_GETROUTE, as `ip route get DST`): output interface,
 *     gateway or on-link, preferred source, route MTU, device MTU;
 *   - an interface (RTM_GETLINK): index, name, MTU, MAC;
 *   - a neighbour (RTM_GETNEIGH, as `ip neigh get`), and resolving a missing
 *     one (RTM_NEWNEIGH with NTF_USE, as `ip neigh replace ... use`).
 *
 * Calls block for one netlink round trip (tw_route_resolve: until the kernel
 * resolved the neighbour or the wait ran out). Not for the per-packet path:
 * callers cache (sink_afpacket.c). Replies are parsed with bounds checks.
 * Does not change routes, listen to netlink events, or handle multipath
 * routes beyond the first next hop the kernel returns.
 */
#ifndef TW_SEND_ROUTE_H
#define TW_SEND_ROUTE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_link {
	int ifindex;
	char name[IF_NAMESIZE];
	uint32_t mtu;
	uint16_t type;               /* ARPHRD_* */
	uint32_t flags;              /* IFF_* */
	uint8_t addr[32];            /* link-layer address (MAC), ADDR_LEN bytes */
	uint8_t addr_len;
};

struct tw_route {
	int family;                  /* AF_INET or AF_INET6 */
	uint8_t dst[16];             /* the destination asked for */
	uint8_t type;                /* RTN_UNICAST, RTN_LOCAL, RTN_BLACKHOLE, ... */
	int oif;                     /* output interface index (0 if none) */
	char ifname[IF_NAMESIZE];    /* its name ("" if unknown) */
	bool has_gateway;
	uint8_t gateway[16];
	uint8_t nexthop[16];         /* gateway, or dst itself when on-link */
	bool has_prefsrc;
	uint8_t prefsrc[16];         /* preferred source address */
	uint32_t route_mtu;          /* RTAX_MTU of the route (or a cached PMTU), 0 if none */
	uint32_t dev_mtu;            /* MTU of the output device, 0 if unknown */
	uint32_t mtu;                /* in effect: route_mtu if set, else dev_mtu */
};

struct tw_neigh {
	int ifindex;
	uint16_t state;              /* NUD_* */
	uint8_t flags;               /* NTF_* */
	uint8_t lladdr[32];
	uint8_t lladdr_len;          /* 0 = no link-layer address (yet) */
};

struct tw_rtnl;

/* Open a NETLINK_ROUTE socket with a receive timeout of TIMEOUT_MS (0 =
 * 1000) for each answer. Returns 0 or -errno. */
int tw_rtnl_open(struct tw_rtnl **out, unsigned timeout_ms);
void tw_rtnl_close(struct tw_rtnl *nl);

/* The route the kernel would use for DST (FAMILY's 4 or 16 bytes), leaving
 * through OIF when OIF > 0. Also fills ifname and dev_mtu (RTM_GETLINK).
 * Returns 0, or the kernel's answer: -ENETUNREACH, -EHOSTUNREACH, ... */
int tw_route_get(struct tw_rtnl *nl, int family, const uint8_t *dst, int oif, struct tw_route *out);

/* Interface by index (IFINDEX > 0) or by NAME. Returns 0, -ENODEV, -errno. */
int tw_route_link(struct tw_rtnl *nl, int ifindex, const char *name, struct tw_link *out);

/* The neighbour entry for ADDR on IFINDEX, in whatever state it is.
 * Returns 0, -ENOENT (no entry), -errno. */
int tw_route_neigh(struct tw_rtnl *nl, int family, int ifindex, const uint8_t *addr,
		   struct tw_neigh *out);

/* Ask the kernel to resolve ADDR on IFINDEX (RTM_NEWNEIGH, NTF_USE: creates
 * the entry if missing and sends an ARP request / neighbour solicitation).
 * Returns 0 or -errno. */
int tw_route_neigh_use(struct tw_rtnl *nl, int family, int ifindex, const uint8_t *addr);

/* Whether an entry in STATE has a link-layer address we may send to:
 * REACHABLE, STALE, DELAY, PROBE, PERMANENT or NOARP. */
bool tw_route_neigh_usable(uint16_t state);

/* A usable MAC for ADDR on IFINDEX: look it up; if missing or unusable, ask
 * for resolution and poll every 10 ms for at most WAIT_MS. Returns 0 (OUT
 * filled), -EHOSTUNREACH (resolution failed or timed out), -errno. */
int tw_route_resolve(struct tw_rtnl *nl, int family, int ifindex, const uint8_t *addr,
		     unsigned wait_ms, struct tw_neigh *out);

/*
 * Message builders and parsers, exposed for tests (tests/unit/test_route.c).
 * Netlink is host byte order. Builders return the message length or -ENOSPC.
 * Parsers take one whole netlink message (header included) and return 0,
 * -errno when it is an NLMSG_ERROR carrying one, -TW_ETRUNC for a cut or
 * inconsistent message, -TW_EMALFORMED for an unexpected type or family.
 */
int tw_rtnl_build_getroute(uint8_t *buf, size_t cap, uint32_t seq, int family,
			   const uint8_t *dst, int oif);
int tw_rtnl_build_getlink(uint8_t *buf, size_t cap, uint32_t seq, int ifindex, const char *name);
int tw_rtnl_build_getneigh(uint8_t *buf, size_t cap, uint32_t seq, int family, int ifindex,
			   const uint8_t *addr);
int tw_rtnl_build_neigh_use(uint8_t *buf, size_t cap, uint32_t seq, int family, int ifindex,
			    const uint8_t *addr);
/* Route: fills everything tw_route_get does except dst, ifname and dev_mtu. */
int tw_rtnl_parse_route(const uint8_t *msg, size_t len, struct tw_route *out);
int tw_rtnl_parse_link(const uint8_t *msg, size_t len, struct tw_link *out);
int tw_rtnl_parse_neigh(const uint8_t *msg, size_t len, int family, struct tw_neigh *out);

#endif
