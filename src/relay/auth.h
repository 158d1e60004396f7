/*
 * auth.h - the channel's shared secret: reading it from a file and the
 * HMAC-SHA256 (nettle) over the bytes tw_wire_auth_input() builds, plus
 * fresh nonces. No sockets, no logging.
 */
#ifndef TW_RELAY_AUTH_H
#define TW_RELAY_AUTH_H

#include "relay/wire.h"

#include <stddef.h>
#include <stdint.h>

#define TW_SECRET_MAX 1024

struct tw_secret {
	size_t len;                 /* 0: no secret */
	uint8_t key[TW_SECRET_MAX];
};

/* Read PATH: its bytes, without trailing newlines, are the secret. An empty
 * file, one larger than TW_SECRET_MAX or an unreadable one is an error with
 * a one-line message naming the file in ERR. Returns 0 or -errno/-EINVAL. */
int tw_secret_load(struct tw_secret *s, const char *path, char *err, size_t errlen);

/* MAC of the message SIGNER sends on a connection (see tw_wire_auth_input). */
void tw_secret_mac(const struct tw_secret *s, uint8_t signer_role,
		   const struct tw_wire_hello *copy_hello, const struct tw_wire_hello *ack,
		   uint8_t mac[TW_WIRE_MAC_LEN]);

/* Random bytes for a HELLO nonce. Returns 0 or -errno. */
int tw_nonce(uint8_t nonce[TW_WIRE_NONCE_LEN]);

#endif
