/*
 * cursor.h - bounds-checked reading and writing of outside bytes.
 *
 * Every byte of a packet, a capture file or the intercept channel is read
 * through a struct tw_rd: a read past the end sets a sticky error flag and
 * returns 0, so a parser reads a whole header and checks rd->err once.
 * Writers (struct tw_wr) work the same way. Pure, inline, allocation-free.
 */
#ifndef TW_PKT_CURSOR_H
#define TW_PKT_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tw_rd {
	const uint8_t *base;
	size_t len;
	size_t pos;
	bool err;
};

static inline void tw_rd_init(struct tw_rd *rd, const void *base, size_t len)
{
	rd->base = (const uint8_t *)base;
	rd->len = len;
	rd->pos = 0;
	rd->err = false;
}

static inline size_t tw_rd_left(const struct tw_rd *rd)
{
	return rd->err ? 0 : rd->len - rd->pos;
}

/* Pointer to the next n bytes and advance, or NULL (and err) if fewer remain. */
static inline const uint8_t *tw_rd_ptr(struct tw_rd *rd, size_t n)
{
	const uint8_t *p;

	if (rd->err || n > rd->len - rd->pos) {
		rd->err = true;
		return NULL;
	}
	p = rd->base + rd->pos;
	rd->pos += n;
	return p;
}

/* Pointer to the current position without advancing (never NULL unless err). */
static inline const uint8_t *tw_rd_cur(const struct tw_rd *rd)
{
	return rd->err ? NULL : rd->base + rd->pos;
}

static inline void tw_rd_skip(struct tw_rd *rd, size_t n)
{
	(void)tw_rd_ptr(rd, n);
}

static inline uint8_t tw_rd_u8(struct tw_rd *rd)
{
	const uint8_t *p = tw_rd_ptr(rd, 1);
	return p ? p[0] : 0;
}

static inline uint16_t tw_rd_be16(struct tw_rd *rd)
{
	const uint8_t *p = tw_rd_ptr(rd, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint32_t tw_rd_be24(struct tw_rd *rd)
{
	const uint8_t *p = tw_rd_ptr(rd, 3);
	return p ? (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2] : 0;
}

static inline uint32_t tw_rd_be32(struct tw_rd *rd)
{
	const uint8_t *p = tw_rd_ptr(rd, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline uint16_t tw_rd_le16(struct tw_rd *rd)
{
	const uint8_t *p = tw_rd_ptr(rd, 2);
	return p ? (uint16_t)(p[1] << 8 | p[0]) : 0;
}

static inline uint32_t tw_rd_le32(struct tw_rd *rd)
{
	const uint8_t *p = tw_rd_ptr(rd, 4);
	return p ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0] : 0;
}

/* Copy n bytes into dst (zeroed on error). */
static inline void tw_rd_bytes(struct tw_rd *rd, void *dst, size_t n)
{
	const uint8_t *p = tw_rd_ptr(rd, n);
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

/* Big-endian loads from a pointer whose bounds the caller has already checked. */
static inline uint16_t tw_load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t tw_load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void tw_store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tw_store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct tw_wr {
	uint8_t *base;
	size_t cap;
	size_t pos;
	bool err;
};

static inline void tw_wr_init(struct tw_wr *wr, void *base, size_t cap)
{
	wr->base = (uint8_t *)base;
	wr->cap = cap;
	wr->pos = 0;
	wr->err = false;
}

/* Reserve n bytes and advance; NULL (and err) if they do not fit. */
static inline uint8_t *tw_wr_ptr(struct tw_wr *wr, size_t n)
{
	uint8_t *p;

	if (wr->err || n > wr->cap - wr->pos) {
		wr->err = true;
		return NULL;
	}
	p = wr->base + wr->pos;
	wr->pos += n;
	return p;
}

static inline void tw_wr_u8(struct tw_wr *wr, uint8_t v)
{
	uint8_t *p = tw_wr_ptr(wr, 1);
	if (p)
		p[0] = v;
}

static inline void tw_wr_be16(struct tw_wr *wr, uint16_t v)
{
	uint8_t *p = tw_wr_ptr(wr, 2);
	if (p)
		tw_store_be16(p, v);
}

static inline void tw_wr_be32(struct tw_wr *wr, uint32_t v)
{
	uint8_t *p = tw_wr_ptr(wr, 4);
	if (p)
		tw_store_be32(p, v);
}

static inline void tw_wr_bytes(struct tw_wr *wr, const void *src, size_t n)
{
	uint8_t *p = tw_wr_ptr(wr, n);
	if (p && n)
		memcpy(p, src, n);
}

#endif
