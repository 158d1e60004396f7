/*
 * conn.c - the framed channel connection (see conn.h): buffering and
 * non-blocking reads and writes. No phase logic, no logging.
 */
#include "relay/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RX_CAP (2 * TW_WIRE_MAX_FRAME)

int tw_rconn_init(struct tw_rconn *c, int fd, size_t tx_cap)
{
	int fl;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (tx_cap < TW_WIRE_MAX_FRAME)
		tx_cap = TW_WIRE_MAX_FRAME;
	c->rx = malloc(RX_CAP);
	c->tx = malloc(tx_cap);
	if (!c->rx || !c->tx) {
		free(c->rx);
		free(c->tx);
		c->rx = c->tx = NULL;
		return -ENOMEM;
	}
	c->tx_cap = tx_cap;
	c->fd = fd;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return 0;
}

void tw_rconn_close(struct tw_rconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->rx);
	free(c->tx);
	c->rx = c->tx = NULL;
	c->fd = -1;
}

int tw_rconn_fill(struct tw_rconn *c)
{
	ssize_t n;

	if (c->rx_pos) { /* frames already handed out are done with */
		memmove(c->rx, c->rx + c->rx_pos, c->rx_len - c->rx_pos);
		c->rx_len -= c->rx_pos;
		c->rx_pos = 0;
	}
	if (c->rx_len == RX_CAP)
		return -ENOBUFS; /* cannot happen: a frame is at most half the buffer */
	do
		n = recv(c->fd, c->rx + c->rx_len, RX_CAP - c->rx_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	c->rx_len += (size_t)n;
	c->bytes_in += (uint64_t)n;
	return (int)n;
}

int tw_rconn_next(struct tw_rconn *c, struct tw_wire_msg *msg, const char **reason)
{
	int n = tw_wire_decode(c->rx + c->rx_pos, c->rx_len - c->rx_pos, msg, reason);

	if (n > 0)
		c->rx_pos += (size_t)n;
	return n;
}

static void compact_tx(struct tw_rconn *c)
{
	if (!c->tx_pos || c->reserved)
		return;
	memmove(c->tx, c->tx + c->tx_pos, c->tx_len - c->tx_pos);
	c->tx_len -= c->tx_pos;
	c->tx_pos = 0;
}

size_t tw_rconn_room(const struct tw_rconn *c)
{
	return c->tx_cap - (c->tx_len - c->tx_pos) - c->reserved;
}

size_t tw_rconn_pending(const struct tw_rconn *c)
{
	return c->tx_len - c->tx_pos;
}

uint8_t *tw_rconn_reserve(struct tw_rconn *c, size_t min, size_t *cap)
{
	size_t free_end;

	if (c->reserved)
		return NULL; /* one reservation at a time */
	if (c->tx_cap - c->tx_len < min)
		compact_tx(c);
	free_end = c->tx_cap - c->tx_len;
	if (free_end < min)
		return NULL;
	if (free_end > TW_WIRE_MAX_FRAME)
		free_end = TW_WIRE_MAX_FRAME;
	c->reserved = free_end;
	*cap = free_end;
	return c->tx + c->tx_len;
}

void tw_rconn_commit(struct tw_rconn *c, size_t n)
{
	if (n > c->reserved)
		n = c->reserved;
	c->tx_len += n;
	c->reserved = 0;
}

int tw_rconn_put(struct tw_rconn *c, const struct tw_wire_msg *msg)
{
	size_t cap;
	uint8_t *p = tw_rconn_reserve(c, 64, &cap);
	int n;

	if (!p)
		return -ENOBUFS;
	n = tw_wire_encode(msg, p, cap);
	if (n < 0) {
		tw_rconn_commit(c, 0);
		return n == -ENOSPC ? -ENOBUFS : n;
	}
	tw_rconn_commit(c, (size_t)n);
	return 0;
}

void tw_rconn_end_batch(struct tw_rconn *c)
{
	int n;

	if (!c->bopen)
		return;
	c->bopen = false;
	n = tw_wire_batch_end(&c->b);
	tw_rconn_commit(c, n > 0 && c->b.n ? (size_t)n : 0);
}

static int open_batch(struct tw_rconn *c, uint8_t type, uint16_t max)
{
	size_t cap;
	uint8_t *p;

	if (c->bopen && c->b.type == type)
		return 0;
	tw_rconn_end_batch(c);
	p = tw_rconn_reserve(c, 512, &cap);
	if (!p)
		return -ENOBUFS;
	if (tw_wire_batch_begin(&c->b, p, cap, type) < 0) {
		tw_rconn_commit(c, 0);
		return -ENOBUFS;
	}
	if (max && max < c->b.max)
		c->b.max = max;
	c->bopen = true;
	return 0;
}

int tw_rconn_add_tuple(struct tw_rconn *c, uint8_t type, const struct tw_wire_tuple *t)
{
	for (int tries = 0; tries < 2; tries++) {
		int rc = open_batch(c, type, 0);

		if (rc < 0)
			return rc;
		rc = tw_wire_batch_add_tuple(&c->b, t);
		if (rc != -ENOSPC)
			return rc;
		tw_rconn_end_batch(c);
	}
	return -ENOBUFS;
}

int tw_rconn_add_reply(struct tw_rconn *c, const struct tw_wire_reply *r, uint16_t max)
{
	for (int tries = 0; tries < 2; tries++) {
		int rc = open_batch(c, TW_WIRE_REPLY, max);

		if (rc < 0)
			return rc;
		rc = tw_wire_batch_add_reply(&c->b, r);
		if (rc != -ENOSPC)
			return rc;
		tw_rconn_end_batch(c);
	}
	return -ENOBUFS;
}

int tw_rconn_flush(struct tw_rconn *c)
{
	tw_rconn_end_batch(c);
	while (c->tx_pos < c->tx_len) {
		ssize_t n = send(c->fd, c->tx + c->tx_pos, c->tx_len - c->tx_pos, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -errno;
		}
		c->tx_pos += (size_t)n;
		c->bytes_out += (uint64_t)n;
	}
	if (!c->reserved)
		c->tx_pos = c->tx_len = 0;
	return 0;
}
