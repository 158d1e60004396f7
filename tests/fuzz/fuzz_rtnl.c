/*
 * fuzz_rtnl.c - libFuzzer target for the rtnetlink reply parsers of
 * src/send/route.c (route, link, neighbour). The first input byte picks the
 * parser (and the address family for neighbours); the rest is one netlink
 * message, copied into an exact-size buffer so ASan sees any over-read.
 */
#include "send/route.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_route rt;
	struct tw_link ln;
	struct tw_neigh ne;
	uint8_t *msg;

	if (size < 1)
		return 0;
	msg = malloc(size - 1 ? size - 1 : 1);
	if (!msg)
		return 0;
	memcpy(msg, data + 1, size - 1);
	switch (data[0] % 4) {
	case 0: (void)tw_rtnl_parse_route(msg, size - 1, &rt); break;
	case 1: (void)tw_rtnl_parse_link(msg, size - 1, &ln); break;
	case 2: (void)tw_rtnl_parse_neigh(msg, size - 1, 2, &ne); break;
	default: (void)tw_rtnl_parse_neigh(msg, size - 1, 10, &ne); break;
	}
	free(msg);
	return 0;
}
