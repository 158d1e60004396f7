/*
 * auth.c - shared secret file, HMAC-SHA256 of the channel's AUTH frames
 * (nettle), nonces (getrandom). See auth.h.
 */
#include "relay/auth.h"

#include <errno.h>
#include <nettle/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int tw_secret_load(struct tw_secret *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	memset(s, 0, sizeof(*s));
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "--secret-file %s: %s", path, strerror(e));
		return -e;
	}
	n = fread(s->key, 1, sizeof(s->key), f);
	if (n == sizeof(s->key) && fgetc(f) != EOF) {
		fclose(f);
		snprintf(err, errlen, "--secret-file %s: longer than %d bytes", path, TW_SECRET_MAX);
		return -EINVAL;
	}
	fclose(f);
	while (n && (s->key[n - 1] == '\n' || s->key[n - 1] == '\r'))
		n--;
	if (!n) {
		snprintf(err, errlen, "--secret-file %s: the file is empty", path);
		return -EINVAL;
	}
	s->len = n;
	return 0;
}

void tw_secret_mac(const struct tw_secret *s, uint8_t signer_role,
		   const struct tw_wire_hello *copy_hello, const struct tw_wire_hello *ack,
		   uint8_t mac[TW_WIRE_MAC_LEN])
{
	uint8_t in[TW_WIRE_AUTH_INPUT_LEN];
	struct hmac_sha256_ctx ctx;
	size_t n = tw_wire_auth_input(in, signer_role, copy_hello, ack);

	hmac_sha256_set_key(&ctx, s->len, s->key);
	hmac_sha256_update(&ctx, n, in);
	hmac_sha256_digest(&ctx, TW_WIRE_MAC_LEN, mac);
}

int tw_nonce(uint8_t nonce[TW_WIRE_NONCE_LEN])
{
	size_t got = 0;

	while (got < TW_WIRE_NONCE_LEN) {
		ssize_t n = getrandom(nonce + got, TW_WIRE_NONCE_LEN - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}
