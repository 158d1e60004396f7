/*
 * source_int.h - what the capture engines share with the dispatcher
 * (source.c): the operations table, the common part of a source, and a few
 * helpers. Not for use outside src/capture/ and its tests.
 */
#ifndef TW_CAPTURE_SOURCE_INT_H
#define TW_CAPTURE_SOURCE_INT_H

#include "capture/source.h"

#include <pcap/pcap.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TW_SRC_DEF_SNAPLEN 262144u
#define TW_SRC_DEF_BUFFER_KB 32768u
#define TW_SRC_DEF_BLOCK_TOV_MS 10u
#define TW_SRC_ERRLEN 512

struct tw_src;

/*
 * One engine. open() fills src->linktype, src->snaplen, src->engine_priv and,
 * on failure, src->err (one line naming the file or interface) and returns
 * -errno / -TW_E*; close() is only called after a successful open().
 */
struct tw_src_ops {
	const char *name;
	int (*open)(struct tw_src *src, const struct tw_src_cfg *cfg);
	int (*next)(struct tw_src *src, struct tw_frame *frames, int max, int timeout_ms);
	int (*stats)(struct tw_src *src, struct tw_src_stats *st);
	void (*brk)(struct tw_src *src);   /* async-signal-safe */
	int (*fd)(const struct tw_src *src);
	/* files: bytes read so far and the file's size; NULL = not known */
	int (*progress)(struct tw_src *src, uint64_t *pos, uint64_t *size);
	void (*close)(struct tw_src *src);
};

struct tw_src {
	const struct tw_src_ops *ops;
	void *priv;                 /* engine state, owned by the engine */
	int linktype;               /* TW_LT_* */
	uint32_t snaplen;
	bool nano;                  /* the source itself has sub-microsecond stamps */
	char err[TW_SRC_ERRLEN];
};

extern const struct tw_src_ops tw_src_file_ops;
extern const struct tw_src_ops tw_src_afpacket_ops;
extern const struct tw_src_ops tw_src_udp_ops;

/* A break request for live engines: raised from a signal handler
 * (tw_src_break), it wakes a blocked poll through an eventfd. */
struct tw_src_wake {
	int efd;
	volatile sig_atomic_t brk;
};

/* Create the eventfd. Returns 0 or -errno. */
int tw_src_wake_init(struct tw_src_wake *w);
void tw_src_wake_close(struct tw_src_wake *w);
/* Async-signal-safe: mark the break and wake the poll. */
void tw_src_wake_raise(struct tw_src_wake *w);
/* True (and cleared, eventfd drained) when a break was raised. */
bool tw_src_wake_take(struct tw_src_wake *w);
/* Monotonic milliseconds. */
int64_t tw_src_now_ms(void);
/* Wait until FD is readable (or in error), a break is raised, or TIMEOUT_MS
 * (-1 forever, 0 no wait) counted from START_MS passes. Returns 1 with FD's
 * poll events in *REVENTS, 0 on timeout or break, -EINTR when a signal other
 * than a break interrupted, or -errno when poll failed. */
int tw_src_wait(struct tw_src_wake *w, int fd, int timeout_ms, int64_t start_ms, short *revents);

/* Write a one-line message into src->err. */
void tw_src_seterr(struct tw_src *src, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Compile FILTER (NULL or "" = accept all) for libpcap link type DLT with
 * SNAPLEN into PROG. On failure writes "bad filter expression '...': ..."
 * into src->err and returns -EINVAL. */
int tw_src_compile(struct tw_src *src, int dlt, uint32_t snaplen, const char *filter,
		   struct bpf_program *prog);

/* libpcap DLT_* value to the LINKTYPE_* value stored in files (TW_LT_*). */
int tw_src_dlt_to_lt(int dlt);

/*
 * File engine on an already open stream (the fuzzer uses fmemopen). Takes
 * ownership of FP (closed by tw_src_close, or here on failure). NAME is used
 * in messages. Same errors as tw_src_open.
 */
int tw_src_open_fp(FILE *fp, const char *name, const char *filter, struct tw_src **out,
		   char *errbuf, size_t errlen);

#endif
