/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_FRAME_H
#define VRELAY_FRAME_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "endpoint.h"
#include "loop.h"
#include "opt.h"
#include "pump.h"

/* How frames travel on a byte stream (frames=) */
enum frame_codec {
	FRAME_CODEC_QEMU,	/* u32 big-endian length, then the frame */
	FRAME_CODEC_HYPERKIT,	/* u16 little-endian length, then the frame */
	FRAME_CODEC_RAW,	/* each read() is one frame (message fds) */
	FRAME_CODEC_NONE,	/* not a frame stream */
};

#define FRAME_ETH_HLEN	14
/* An MTU-sized frame: Ethernet header plus room for one 802.1Q tag */
#define FRAME_FOR_MTU(mtu) ((size_t)(mtu) + 18)
/* The longest frame anything here carries: a 65535-byte IP packet */
#define FRAME_MAX	FRAME_FOR_MTU(65535)
/* QEMU's own receive buffer (NET_BUFSIZE): a longer qemu-framed length can
 * only be a corrupt stream */
#define FRAME_QEMU_LIMIT 69632

/* What frame_decode() found at the start of a stream's buffered bytes */
enum frame_scan {
	FRAME_SCAN_MORE,	/* no whole frame yet: read more */
	FRAME_SCAN_FRAME,	/* a frame at [*off, *off + *flen) */
	FRAME_SCAN_CORRUPT,	/* a length prefix no frame can have */
};

/* Bytes of a codec's length prefix: 4 for qemu, 2 for hyperkit, else 0 */
static inline size_t frame_header_len(enum frame_codec codec)
{
	return codec == FRAME_CODEC_QEMU ? 4 : codec == FRAME_CODEC_HYPERKIT ? 2 : 0;
}

/**
 * frame_header_put() - write the length prefix of a @len-byte frame
 * @codec:	FRAME_CODEC_QEMU or FRAME_CODEC_HYPERKIT
 * @out:	room for frame_header_len(@codec) bytes
 * Return: the prefix's length
 */
static inline size_t frame_header_put(enum frame_codec codec, size_t len, uint8_t *out)
{
	if (codec == FRAME_CODEC_QEMU) {
		out[0] = (uint8_t)(len >> 24);
		out[1] = (uint8_t)(len >> 16);
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
	} else if (codec == FRAME_CODEC_HYPERKIT) {
		out[0] = (uint8_t)len;
		out[1] = (uint8_t)(len >> 8);
	}
	return frame_header_len(codec);
}

/**
 * frame_decode() - the first frame of a length-prefixed stream
 * @codec:	FRAME_CODEC_QEMU or FRAME_CODEC_HYPERKIT
 * @buf, @len:	the bytes received and not yet taken
 * @off, @flen:	for FRAME_SCAN_FRAME, where the frame is in @buf; for
 *		FRAME_SCAN_CORRUPT, @flen is the length the prefix claimed
 *
 * Pure: the frame relay (frame.c) and the fuzzers call it on buffers.
 * Whether the frame fits the other side is the caller's question; only a
 * length beyond FRAME_QEMU_LIMIT means the stream has lost its framing.
 * Return: enum frame_scan; the caller takes @off + @flen bytes for a frame
 */
static inline enum frame_scan frame_decode(enum frame_codec codec, const uint8_t *buf,
					   size_t len, size_t *off, size_t *flen)
{
	size_t hl = frame_header_len(codec), n;

	if (!hl || len < hl)
		return FRAME_SCAN_MORE;
	if (codec == FRAME_CODEC_QEMU)
		n = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
	else
		n = (size_t)buf[0] | (size_t)buf[1] << 8;
	*off = hl;
	*flen = n;
	if (n > FRAME_QEMU_LIMIT)
		return FRAME_SCAN_CORRUPT;
	return len - hl < n ? FRAME_SCAN_MORE : FRAME_SCAN_FRAME;
}

/* An HTTP request head before the frames (accept-post): its longest */
#define FRAME_POST_MAX	4096

/**
 * frame_post_head() - the length of the HTTP POST head at the start of a
 *		       stream (accept-post: gvforwarder's "/connect")
 * @buf, @len:	the bytes received so far
 * Return: the head's length up to and with its empty line; 0 if more must
 *	   be read; -EPROTO if it is no POST request; -E2BIG if no head
 *	   ends within FRAME_POST_MAX bytes
 */
static inline long frame_post_head(const uint8_t *buf, size_t len)
{
	/* refused as soon as it cannot be one: "\r\n\r\n" is no request */
	if (memcmp(buf, "POST ", len < 5 ? len : 5))
		return -EPROTO;
	for (size_t i = 0; i + 4 <= len && i + 4 <= FRAME_POST_MAX; i++)
		if (!memcmp(buf + i, "\r\n\r\n", 4))
			return (long)(i + 4);
	return len >= FRAME_POST_MAX ? -E2BIG : 0;
}

/* Options every stream address takes for carrying frames */
extern const struct opt_desc opt_frames, opt_post, opt_accept_post;

/* What every frame pump of this process did, for -S and SIGUSR1 */
struct frame_totals {
	uint64_t frames[2], bytes[2];
	uint64_t drop_oversize, drop_malformed, drop_queue;
};
extern struct frame_totals frame_totals;

bool frame_relay_wanted(const struct addr_spec *left, const struct addr_spec *right);
int frame_pump_start(struct loop *loop, const struct pump_conf *conf,
		     struct endpoint *left, struct endpoint *right,
		     pump_done_fn done, void *arg);
void frame_pump_stop_all(void);

#endif
