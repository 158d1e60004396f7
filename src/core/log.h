/*
 * log.h - the one logging facility of tcptwin.
 *
 * tw_log(level, err, fmt, ...) writes one line to stderr (or the file set by
 * tw_log_open): "tcptwin[module]: LEVEL: message: strerror(err)". err is 0 or
 * a negative error code (see err.h) and is formatted in one fixed way.
 * Never call it per packet on the hot path: use counters, or tw_log_rl.
 */
#ifndef TW_CORE_LOG_H
#define TW_CORE_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum tw_log_level {
	TW_LOG_ERR = 0,
	TW_LOG_WARN,
	TW_LOG_NOTICE,
	TW_LOG_INFO,
	TW_LOG_DEBUG,
};

/* Messages above this level are dropped. Default TW_LOG_NOTICE. */
void tw_log_set_level(enum tw_log_level lvl);
/* Log to PATH (appending) instead of stderr; returns 0 or -errno. */
int tw_log_open(const char *path);
/* A stdio stream onto the log (stderr, or the -l file), for multi-line
 * reports such as a run's summary. Never NULL. */
FILE *tw_log_stream(void);
/* Prefix used on every line ("tcptwin" by default). */
void tw_log_set_prog(const char *prog);

void tw_log_(enum tw_log_level lvl, int err, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#ifndef TW_LOG_MODULE
#define TW_LOG_MODULE NULL
#endif
#define tw_log(lvl, err, ...) tw_log_(lvl, err, TW_LOG_MODULE, __VA_ARGS__)

#endif
