/*
 * addrplan_int.h - small helpers shared by addrplan.c (parsers, matching,
 * sampling) and addrplan_alloc.c (the tuple allocator). Not for other
 * modules.
 */
#ifndef TW_COPY_ADDRPLAN_INT_H
#define TW_COPY_ADDRPLAN_INT_H

#include "copy/addrplan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

/* ---- small helpers -------------------------------------------------------- */

/* splitmix64's finaliser: a cheap, well-mixed 64-bit hash step. */
static inline uint64_t tw_ap_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static inline size_t tw_ap_ip_len(uint8_t ver)
{
	return ver == 4 ? 4 : 16;
}

static inline uint64_t tw_ap_hash_addr(uint64_t seed, uint8_t ver, const uint8_t a[16])
{
	uint64_t w0 = 0, w1 = 0;

	memcpy(&w0, a, ver == 4 ? 4 : 8);
	if (ver != 4)
		memcpy(&w1, a + 8, 8);
	return tw_ap_mix64(tw_ap_mix64(tw_ap_mix64(seed ^ ver) ^ w0) ^ w1);
}

static inline bool tw_ap_ip_eq(const struct tw_ap_ip *x, const struct tw_ap_ip *y)
{
	return x->ver == y->ver && memcmp(x->a, y->a, tw_ap_ip_len(x->ver)) == 0;
}

static inline u128 tw_ap_ip_to_u128(const struct tw_ap_ip *ip)
{
	u128 v = 0;

	for (size_t i = 0; i < tw_ap_ip_len(ip->ver); i++)
		v = v << 8 | ip->a[i];
	return v;
}

static inline void tw_ap_ip_from_u128(uint8_t ver, u128 v, struct tw_ap_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->ver = ver;
	for (size_t i = tw_ap_ip_len(ver); i-- > 0; v >>= 8)
		ip->a[i] = (uint8_t)v;
}

#endif
