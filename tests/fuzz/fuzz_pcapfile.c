/*
 * fuzz_pcapfile.c - libFuzzer target for the "file" capture engine: the
 * input is a whole pcap or pcapng file, read from memory (fmemopen) through
 * tw_src_open_fp, every frame fetched in small batches and every byte
 * touched. Some inputs also run a BPF filter. Checks the engine's promises:
 * caplen <= wirelen, ts_nsec < 1e9, and it ends with EOF or EBADFILE.
 */
#include "capture/source.h"
#include "capture/source_int.h"
#include "core/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;  /* keeps the byte reads */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_frame fr[7];
	struct tw_src *src;
	char err[512];
	unsigned sum = 0;
	FILE *fp;
	int n;

	if (size == 0)
		return 0;
	/* read-only mode: fmemopen never writes to the buffer */
	fp = fmemopen((void *)(uintptr_t)data, size, "rb");
	if (!fp)
		return 0;
	if (tw_src_open_fp(fp, "fuzz.pcap", size % 3 == 0 ? "tcp or udp port 53" : NULL, &src, err,
			   sizeof(err)) != 0)
		return 0;
	while ((n = tw_src_next(src, fr, 7, -1)) > 0) {
		for (int i = 0; i < n; i++) {
			if (fr[i].caplen > fr[i].wirelen || fr[i].ts_nsec >= 1000000000u)
				abort();
			for (uint32_t k = 0; k < fr[i].caplen; k++)
				sum += fr[i].data[k];
		}
	}
	if (n != -TW_EEOF && n != -TW_EBADFILE)
		abort();
	tw_src_close(src);
	sink = sum;
	return 0;
}
