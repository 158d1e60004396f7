/*
 * err.h - tcptwin's error convention.
 *
 * Functions return 0 on success and a negative number on failure: -errno for
 * system errors, -TW_E* for domain errors. TW_E* values start above 4096 so
 * they never clash with errno. tw_strerror() understands both kinds.
 * Does not log anything.
 */
#ifndef TW_CORE_ERR_H
#define TW_CORE_ERR_H

enum tw_err {
	TW_EBASE = 4096,
	TW_ETRUNC,       /* a header is cut short by the captured length */
	TW_EMALFORMED,   /* a header field is impossible (IHL < 5, bad version...) */
	TW_ENOTIP,       /* not an IP packet (ARP, LLDP...): skipped, not an error */
	TW_ELINKTYPE,    /* link type we do not decode */
	TW_EENCAP,       /* tunnel header we cannot decode */
	TW_EEOF,         /* end of a file source */
	TW_EBADFILE,     /* a file is empty, truncated or not a capture */
	TW_EPROTO_VERSION, /* peer speaks another protocol version */
	TW_EMAX
};

/* Text for 0, -errno or -TW_E*; never NULL. Thread-safe. */
const char *tw_strerror(int err);

#endif
