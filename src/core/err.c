/*
 * err.c - text for tcptwin error codes (errno and TW_E*). Nothing else.
 */
#include "core/err.h"

#include <string.h>

static const char *const domain_text[] = {
	[TW_ETRUNC - TW_EBASE] = "truncated header",
	[TW_EMALFORMED - TW_EBASE] = "malformed header",
	[TW_ENOTIP - TW_EBASE] = "not an IP packet",
	[TW_ELINKTYPE - TW_EBASE] = "unsupported link type",
	[TW_EENCAP - TW_EBASE] = "undecodable tunnel header",
	[TW_EEOF - TW_EBASE] = "end of file",
	[TW_EBADFILE - TW_EBASE] = "not a valid capture file",
	[TW_EPROTO_VERSION - TW_EBASE] = "protocol version mismatch",
};

const char *tw_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return "success";
	if (err > TW_EBASE && err < TW_EMAX) {
		const char *t = domain_text[err - TW_EBASE];
		return t ? t : "unknown error";
	}
	if (err < TW_EBASE)
		return strerrordesc_np(err) ? strerrordesc_np(err) : "unknown error";
	return "unknown error";
}
