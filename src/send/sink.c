/*
 * sink.c - the sink dispatcher (see sink.h): picks an engine, checks batch
 * sizes, and holds the bookkeeping every engine shares (error kinds,
 * destination from the IP header). Sends nothing itself.
 */
#include "send/sink.h"

#include "pkt/cursor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void tw_sink_seterr(struct tw_sink *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

void tw_sink_count(struct tw_sink *s, struct tw_sink_pkt *pkt, int err)
{
	pkt->err = err;
	switch (-err) {
	case 0:
		s->st.packets++;
		s->st.bytes += pkt->len;
		if (pkt->flags & TW_SINK_PKT_RETRY)
			s->st.retries++;
		break;
	case EMSGSIZE:
		s->st.err_msgsize++;
		break;
	case ENOBUFS:
	case EAGAIN:
		s->st.err_nobufs++;
		break;
	case EPERM:
	case EACCES:
		s->st.err_perm++;
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
		s->st.err_unreach++;
		break;
	default:
		s->st.err_other++;
		break;
	}
}

int tw_sink_pkt_dst(const struct tw_sink_pkt *pkt, struct tw_sink_addr *dst)
{
	struct tw_rd rd;
	uint8_t vhl;
	int family;

	if (!pkt->data)
		return -EINVAL;
	tw_rd_init(&rd, pkt->data, pkt->len);
	vhl = tw_rd_u8(&rd);
	if (rd.err)
		return -EINVAL;
	switch (vhl >> 4) {
	case 4:
		/* at least the 20-byte header; daddr at offset 16 */
		if ((vhl & 0x0f) < 5 || pkt->len < 20)
			return -EINVAL;
		family = AF_INET;
		break;
	case 6:
		/* 40-byte header; daddr at offset 24 */
		if (pkt->len < 40)
			return -EINVAL;
		family = AF_INET6;
		break;
	default:
		return -EINVAL;
	}
	if (pkt->dst.family) {
		if (pkt->dst.family != family)
			return -EINVAL;
		*dst = pkt->dst;
		return family;
	}
	memset(dst, 0, sizeof(*dst));
	dst->family = family;
	tw_rd_init(&rd, pkt->data, pkt->len);
	tw_rd_skip(&rd, family == AF_INET ? 16 : 24);
	tw_rd_bytes(&rd, dst->addr, family == AF_INET ? 4 : 16);
	return rd.err ? -EINVAL : family;
}

int tw_sink_open(const struct tw_sink_cfg *cfg, struct tw_sink **out, char *errbuf, size_t errlen)
{
	const struct tw_sink_ops *ops;
	struct tw_sink *s;
	int rc;

	switch (cfg->kind) {
	case TW_SINK_AUTO:
		ops = cfg->dev ? &tw_sink_afpacket_ops : &tw_sink_rawip_ops;
		break;
	case TW_SINK_RAWIP:
		ops = &tw_sink_rawip_ops;
		break;
	case TW_SINK_AFPACKET:
		ops = &tw_sink_afpacket_ops;
		break;
	default:
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "sink: unknown engine %d", (int)cfg->kind);
		return -EINVAL;
	}
	if (cfg->batch > TW_SINK_MAX_BATCH) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "sink %s: batch %u above %u", ops->name, cfg->batch,
				 TW_SINK_MAX_BATCH);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "sink %s: out of memory", ops->name);
		return -ENOMEM;
	}
	s->ops = ops;
	s->batch = cfg->batch ? cfg->batch : TW_SINK_DEF_BATCH;
	rc = ops->open(s, cfg);
	if (rc < 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", s->err[0] ? s->err : "sink: open failed");
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int tw_sink_send(struct tw_sink *s, struct tw_sink_pkt *pkts, unsigned n)
{
	if (n > s->batch)
		return -E2BIG;
	if (n == 0)
		return 0;
	if (!pkts)
		return -EINVAL;
	return s->ops->send(s, pkts, n);
}

int tw_sink_flush(struct tw_sink *s)
{
	return s->ops->flush ? s->ops->flush(s) : 0;
}

void tw_sink_stats(const struct tw_sink *s, struct tw_sink_stats *st)
{
	*st = s->st;
}

const char *tw_sink_engine(const struct tw_sink *s)
{
	return s->ops->name;
}

unsigned tw_sink_batch(const struct tw_sink *s)
{
	return s->batch;
}

void tw_sink_close(struct tw_sink *s)
{
	if (!s)
		return;
	s->ops->close(s);
	free(s);
}

unsigned tw_sink_mmsg(struct tw_sink *s, int fd, struct mmsghdr *msgs, struct tw_sink_pkt **pk,
		      unsigned m, int *stop)
{
	unsigned i = 0, sent = 0, k;
	int r, e;

	*stop = 0;
	while (i < m) {
		s->st.calls++;
		r = sendmmsg(fd, msgs + i, m - i, MSG_DONTWAIT);
		if (r > 0) {
			for (k = 0; k < (unsigned)r; k++)
				tw_sink_count(s, pk[i + k], 0);
			i += (unsigned)r;
			sent += (unsigned)r;
			continue;
		}
		/* r == 0 would mean nothing sent and no error: treat as full */
		e = r == 0 ? EAGAIN : errno;
		if (e == EINTR) {
			s->st.retries++;
			continue;
		}
		if (e == EWOULDBLOCK)
			e = EAGAIN;
		if (e == EAGAIN || e == ENOBUFS) {
			*stop = -e;
			for (; i < m; i++)
				tw_sink_count(s, pk[i], -e);
			break;
		}
		/* sendmmsg reports the error of the first message it could not
		 * send: record it against that packet and go on with the next */
		tw_sink_count(s, pk[i], -e);
		i++;
	}
	return sent;
}
