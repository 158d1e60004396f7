/*
 * source.c - capture source dispatch: picks an engine from the spec (or the
 * kind the caller asked for), then forwards every call through the engine's
 * operations table. Also the helpers the engines share (error text, BPF
 * compilation, DLT -> LINKTYPE). Reads no packets itself.
 */
#include "capture/source.h"
#include "capture/source_int.h"
#include "core/err.h"
#include "pkt/decode.h"

#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <sys/stat.h>

void tw_src_seterr(struct tw_src *src, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(src->err, sizeof(src->err), fmt, ap);
	va_end(ap);
}

int tw_src_compile(struct tw_src *src, int dlt, uint32_t snaplen, const char *filter,
		   struct bpf_program *prog)
{
	pcap_t *dead = pcap_open_dead(dlt, (int)snaplen);

	if (!dead) {
		tw_src_seterr(src, "cannot compile filter: out of memory");
		return -ENOMEM;
	}
	/* pcap_compile is not thread-safe before libpcap 1.8 and cheap enough:
	 * it runs once per source, at open time. */
	if (pcap_compile(dead, prog, filter ? filter : "", 1, PCAP_NETMASK_UNKNOWN) != 0) {
		tw_src_seterr(src, "bad filter expression '%s': %s", filter ? filter : "",
			      pcap_geterr(dead));
		pcap_close(dead);
		return -EINVAL;
	}
	pcap_close(dead);
	return 0;
}

int tw_src_dlt_to_lt(int dlt)
{
	/* In memory libpcap uses the platform's DLT_* values; files store
	 * LINKTYPE_* values. They differ for raw IP only (DLT_RAW is 12 on
	 * Linux, 14 on OpenBSD, LINKTYPE_RAW is 101). */
	if (dlt == 12 || dlt == 14)
		return TW_LT_RAW;
	return dlt;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/*
 * "vxlan:" / "geneve:" -> udp; "-" -> file (stdin); an interface that exists
 * (or "any") -> afpacket, even if a file of that name sits in the current
 * directory (-i lo must never read ./lo); an existing regular file -> file;
 * anything else -> afpacket, which then reports "No such device exists".
 */
static enum tw_src_kind pick_kind(const char *spec)
{
	struct stat st;

	if (has_prefix(spec, "vxlan:") || has_prefix(spec, "geneve:"))
		return TW_SRC_UDP;
	if (strcmp(spec, "-") == 0)
		return TW_SRC_FILE;
	if (strcmp(spec, "any") == 0 || (strlen(spec) < IF_NAMESIZE && if_nametoindex(spec) != 0))
		return TW_SRC_AFPACKET;
	if (stat(spec, &st) == 0 && S_ISREG(st.st_mode))
		return TW_SRC_FILE;
	return TW_SRC_AFPACKET;
}

int tw_src_open(const struct tw_src_cfg *cfg, struct tw_src **out, char *errbuf, size_t errlen)
{
	struct tw_src *src;
	enum tw_src_kind kind;
	int rc;

	*out = NULL;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!cfg->spec || !*cfg->spec) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "no capture source given");
		return -EINVAL;
	}
	kind = cfg->kind == TW_SRC_AUTO ? pick_kind(cfg->spec) : cfg->kind;
	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	switch (kind) {
	case TW_SRC_FILE:
		src->ops = &tw_src_file_ops;
		break;
	case TW_SRC_UDP:
		src->ops = &tw_src_udp_ops;
		break;
	case TW_SRC_AFPACKET:
	case TW_SRC_AUTO:
	default:
		src->ops = &tw_src_afpacket_ops;
		break;
	}
	rc = src->ops->open(src, cfg);
	if (rc < 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", src->err[0] ? src->err : tw_strerror(rc));
		free(src);
		return rc;
	}
	src->err[0] = '\0';
	*out = src;
	return 0;
}

int tw_src_next(struct tw_src *src, struct tw_frame *frames, int max, int timeout_ms)
{
	if (max <= 0)
		return 0;
	return src->ops->next(src, frames, max, timeout_ms);
}

int tw_src_linktype(const struct tw_src *src)
{
	return src->linktype;
}

uint32_t tw_src_snaplen(const struct tw_src *src)
{
	return src->snaplen;
}

const char *tw_src_error(const struct tw_src *src)
{
	return src->err;
}

const char *tw_src_engine(const struct tw_src *src)
{
	return src->ops->name;
}

bool tw_src_is_nano(const struct tw_src *src)
{
	return src->nano;
}

int tw_src_stats(struct tw_src *src, struct tw_src_stats *st)
{
	memset(st, 0, sizeof(*st));
	return src->ops->stats(src, st);
}

void tw_src_break(struct tw_src *src)
{
	if (src)
		src->ops->brk(src);
}

int tw_src_fd(const struct tw_src *src)
{
	return src->ops->fd(src);
}

int tw_src_progress(struct tw_src *src, uint64_t *pos, uint64_t *size)
{
	if (!src->ops->progress)
		return -ENOTSUP;
	return src->ops->progress(src, pos, size);
}

void tw_src_close(struct tw_src *src)
{
	if (!src)
		return;
	src->ops->close(src);
	free(src);
}

int tw_src_wake_init(struct tw_src_wake *w)
{
	w->brk = 0;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return w->efd == -1 ? -errno : 0;
}

void tw_src_wake_close(struct tw_src_wake *w)
{
	if (w->efd >= 0)
		close(w->efd);
	w->efd = -1;
}

void tw_src_wake_raise(struct tw_src_wake *w)
{
	uint64_t one = 1;
	int saved = errno; /* may run in a signal handler */

	w->brk = 1;
	if (write(w->efd, &one, sizeof(one)) == -1) {
		/* the counter is already non-zero: poll wakes anyway */
	}
	errno = saved;
}

bool tw_src_wake_take(struct tw_src_wake *w)
{
	uint64_t v;

	if (!w->brk)
		return false;
	w->brk = 0;
	while (read(w->efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	return true;
}

int64_t tw_src_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tw_src_wait(struct tw_src_wake *w, int fd, int timeout_ms, int64_t start_ms, short *revents)
{
	struct pollfd pfd[2];
	int wait = -1;

	if (timeout_ms == 0)
		return 0;
	if (timeout_ms > 0) {
		int64_t left = start_ms + timeout_ms - tw_src_now_ms();
		if (left <= 0)
			return 0;
		wait = (int)left;
	}
	pfd[0] = (struct pollfd){.fd = fd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = w->efd, .events = POLLIN};
	if (poll(pfd, 2, wait) == -1) {
		if (errno == EINTR)
			return tw_src_wake_take(w) ? 0 : -EINTR;
		return -errno;
	}
	if (pfd[1].revents & POLLIN) {
		w->brk = 1; /* drain even if the flag was already taken */
		(void)tw_src_wake_take(w);
		return 0;
	}
	*revents = pfd[0].revents;
	return pfd[0].revents ? 1 : 0;
}
