/*
 * blast.h - `tcptwin blast`: stateless replay of pcap files onto one
 * interface (tcpreplay's job). Reads every frame of the files in order,
 * rewrites it (blast/rewrite.h), re-segments TCP packets above the MTU
 * (pkt/reseg.h; tcpreplay fails them), paces on an absolute schedule
 * (blast/sched.h) and sends in batches through a run-time engine
 * (blast/tx.h). Loops, a packet limit and a duration end the run.
 *
 * Frames are sent as captured (link header included) for Ethernet captures;
 * other link types get an Ethernet header (the device's MAC as source,
 * --dstmac or broadcast as destination). Non-IP frames of non-Ethernet
 * captures are skipped and counted.
 * Does not: parse options (cli/cmd_blast.c), print anything but the final
 * statistics (tw_blast_report), or keep state between packets.
 */
#ifndef TW_BLAST_BLAST_H
#define TW_BLAST_BLAST_H

#include "blast/rewrite.h"
#include "blast/sched.h"
#include "blast/tx.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct tw_blast_cfg {
	const char *dev;
	char *const *files;
	unsigned nfiles;
	enum tw_btx_engine engine;
	unsigned batch;               /* 0 = 64 */
	enum tw_sched_mode mode;
	double rate;                  /* multiplier, pps or Mbps */
	uint64_t loops;               /* passes over the files, 0 = until stopped */
	uint64_t limit;               /* frames sent at most, 0 = no limit */
	uint64_t duration_ns;         /* stop after this long, 0 = no limit */
	bool preload;                 /* -K: read (and prepare) every file before sending */
	bool unique_ip;               /* add the loop number to IPv4 addresses each loop */
	bool no_reseg;                /* send packets above the MTU as they are (they fail) */
	uint32_t mtu;                 /* 0 = the device's */
	struct tw_rw_cfg rw;          /* rw.mtu is filled from the MTU in effect */
};

struct tw_blast_stats {
	uint64_t packets, bytes;      /* frames handed to the kernel, their bytes */
	uint64_t failed;              /* refused by the kernel, or too big to send */
	uint64_t truncated;           /* cut to the MTU (--mtu-trunc) */
	uint64_t resegmented;         /* packets above the MTU cut into segments */
	uint64_t segments;            /* segments they gave */
	uint64_t skipped;             /* frames that could not be framed (non-IP, non-Ethernet) */
	uint64_t rewrite_errors;      /* IP headers the rewriter could not parse (sent anyway) */
	uint64_t retried_nobufs, retried_eagain;
	uint64_t loops;               /* passes completed */
	uint64_t elapsed_ns;
	uint32_t mtu;
	const char *engine;
};

/* Run. Returns 0 (including a stop on request, limit or duration) or
 * -errno / -TW_E* with a one-line message in ERR; ST is filled either way. */
int tw_blast_run(const struct tw_blast_cfg *cfg, struct tw_blast_stats *st, char *err,
		 size_t errlen);
/* Ask a running tw_blast_run to stop soon. Async-signal-safe. */
void tw_blast_stop(void);
/* tcpreplay's final statistics, plus blast's own lines. */
void tw_blast_report(FILE *out, const struct tw_blast_stats *st, const char *dev);

#endif
