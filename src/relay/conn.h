/*
 * conn.h - one framed, non-blocking channel connection (copy <-> intercept):
 * a receive buffer that yields whole frames through the wire codec, and a
 * bounded send buffer that frames are encoded or batched into and written
 * from when the socket takes them.
 *
 * Both sides of the channel use it. It does not know the connection's
 * phase (hello, auth, ready), does not register with the event loop and
 * never logs: the caller does those. No allocation after tw_rconn_init.
 */
#ifndef TW_RELAY_CONN_H
#define TW_RELAY_CONN_H

#include "relay/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_rconn {
	int fd;
	uint8_t *rx;
	size_t rx_pos, rx_len;          /* unread bytes are rx[rx_pos .. rx_len) */
	uint8_t *tx;
	size_t tx_pos, tx_len, tx_cap;  /* unsent bytes are tx[tx_pos .. tx_len) */
	size_t reserved;                /* bytes handed out by tw_rconn_reserve, not committed */
	uint64_t bytes_in, bytes_out;
	struct tw_wire_batch b;         /* an open REGISTER/UNREGISTER/REPLY frame */
	bool bopen;
};

/* Take FD (non-blocking is set here) with a send buffer of TX_CAP bytes
 * (at least TW_WIRE_MAX_FRAME). Returns 0 or -ENOMEM. */
int tw_rconn_init(struct tw_rconn *c, int fd, size_t tx_cap);
/* Free the buffers and close the descriptor. */
void tw_rconn_close(struct tw_rconn *c);

/* Read what the socket has. Returns >0 bytes read, 0 at end of stream,
 * -EAGAIN when nothing is there, or -errno. */
int tw_rconn_fill(struct tw_rconn *c);
/* The next whole frame received: > 0 (MSG filled; reply payloads point into
 * the receive buffer and stay valid until the next fill), 0 if more bytes
 * are needed, < 0 for a broken stream (*REASON says why). */
int tw_rconn_next(struct tw_rconn *c, struct tw_wire_msg *msg, const char **reason);

/* Encode MSG into the send buffer. -ENOBUFS when it is full. */
int tw_rconn_put(struct tw_rconn *c, const struct tw_wire_msg *msg);
/* Room for one frame (up to TW_WIRE_MAX_FRAME bytes) at the end of the send
 * buffer, for tw_wire_batch_*: returns the pointer and its size in *CAP, or
 * NULL when fewer than MIN bytes are free. Then commit the bytes used. */
uint8_t *tw_rconn_reserve(struct tw_rconn *c, size_t min, size_t *cap);
void tw_rconn_commit(struct tw_rconn *c, size_t n);
/* Write what is buffered. Returns 0 when all of it went out, 1 when some
 * is left (wait for the socket to be writable), or -errno. */
int tw_rconn_flush(struct tw_rconn *c);
/* Add a record to the open batch frame of TYPE (REGISTER, UNREGISTER or
 * REPLY; MAX records per frame), ending the open frame first if it is of
 * another type or full. Returns 0, or -ENOBUFS when the send buffer is full
 * (the record is not sent: count it). tw_rconn_flush ends the open frame. */
int tw_rconn_add_tuple(struct tw_rconn *c, uint8_t type, const struct tw_wire_tuple *t);
int tw_rconn_add_reply(struct tw_rconn *c, const struct tw_wire_reply *r, uint16_t max);
void tw_rconn_end_batch(struct tw_rconn *c);
/* Bytes waiting to be sent. */
size_t tw_rconn_pending(const struct tw_rconn *c);
/* Bytes that may still be put. */
size_t tw_rconn_room(const struct tw_rconn *c);

#endif
