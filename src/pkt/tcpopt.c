/*
 * tcpopt.c - parsing of TCP option bytes into struct tw_tcp_opts (MSS, window
 * scale, SACK-permitted, SACK blocks, timestamps; NOP and EOL understood,
 * other kinds skipped by their length).
 *
 * Does not validate option semantics (a window scale above 14, SACK blocks
 * out of order) and keeps no raw copy: the caller has tw_pkt.tcp_opt.
 */
#include "pkt/decode.h"
#include "core/err.h"
#include "pkt/cursor.h"

#include <string.h>

enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WSCALE = 3,
	OPT_SACK_OK = 4,
	OPT_SACK = 5,
	OPT_TS = 8,
};

/* Option with a fixed length: true when LEN is the one it must have. */
static bool fixed_len_ok(uint8_t kind, uint8_t len)
{
	switch (kind) {
	case OPT_MSS:
		return len == 4;
	case OPT_WSCALE:
		return len == 3;
	case OPT_SACK_OK:
		return len == 2;
	case OPT_TS:
		return len == 10;
	case OPT_SACK:
		return len >= 10 && (len - 2) % 8 == 0;
	default:
		return true;
	}
}

int tw_tcp_opts_parse(const uint8_t *opt, size_t len, struct tw_tcp_opts *opts)
{
	size_t i = 0;

	memset(opts, 0, sizeof(*opts));
	if (!opt)
		return 0;
	while (i < len) {
		uint8_t kind = opt[i], olen;
		const uint8_t *v;

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		/* Every other kind has a length byte counting kind and length. */
		if (len - i < 2)
			return -TW_EMALFORMED;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i || !fixed_len_ok(kind, olen))
			return -TW_EMALFORMED;
		v = opt + i + 2;
		switch (kind) {
		case OPT_MSS:
			opts->has_mss = true;
			opts->mss = tw_load_be16(v);
			break;
		case OPT_WSCALE:
			opts->has_wscale = true;
			opts->wscale = v[0];
			break;
		case OPT_SACK_OK:
			opts->sack_ok = true;
			break;
		case OPT_SACK:
			for (size_t b = 0; b < (size_t)(olen - 2) / 8 && opts->nsack < TW_TCP_MAX_SACK; b++) {
				opts->sack[opts->nsack][0] = tw_load_be32(v + 8 * b);
				opts->sack[opts->nsack][1] = tw_load_be32(v + 8 * b + 4);
				opts->nsack++;
			}
			break;
		case OPT_TS:
			opts->has_ts = true;
			opts->ts_val = tw_load_be32(v);
			opts->ts_ecr = tw_load_be32(v + 4);
			break;
		default:
			break;
		}
		i += olen;
	}
	return 0;
}
