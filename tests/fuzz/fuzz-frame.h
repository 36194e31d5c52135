/* SPDX-License-Identifier: MIT */
/*
 * fuzz-frame.h - the body of fuzz-frame-qemu and fuzz-frame-hyperkit: a
 * byte stream through the decoder the frame relay uses (frame_decode() and
 * frame_post_head() in src/frame.h), as src/frame.c walks its input buffer.
 *
 * The input is the stream.  It is decoded twice, as a plain frame stream
 * and with accept-post (an HTTP POST head first).  Properties:
 * - every frame lies inside the buffer, right after its prefix, and the
 *   prefix re-encoded by frame_header_put() is the bytes it came from;
 * - the answer needs no byte after the frame: the same frame is found in a
 *   buffer cut right after it, and one byte less asks for more;
 * - "corrupt" only for a length no frame can have (over FRAME_QEMU_LIMIT);
 * - an accept-post head ends with its empty line and starts with "POST ".
 */
#ifndef VRELAY_FUZZ_FRAME_H
#define VRELAY_FUZZ_FRAME_H

#include "config.h"

#include "frame.h"
#include "fuzz.h"

static void walk(enum frame_codec codec, const uint8_t *buf, size_t len)
{
	size_t pos = 0, hl = frame_header_len(codec);

	for (;;) {
		size_t off = 0, flen = 0, o2 = 0, f2 = 0;
		uint8_t head[4];
		enum frame_scan r = frame_decode(codec, buf + pos, len - pos, &off, &flen);

		if (r == FRAME_SCAN_MORE) {
			fuzz_check(len - pos < hl || (len - pos - hl < flen && flen <= FRAME_QEMU_LIMIT),
				   "more wanted with %zu bytes there", len - pos);
			return;
		}
		fuzz_check(off == hl, "frame at offset %zu", off);
		fuzz_check(frame_header_put(codec, flen, head) == hl && !memcmp(head, buf + pos, hl),
			   "prefix of a %zu-byte frame does not re-encode", flen);
		if (r == FRAME_SCAN_CORRUPT) {
			fuzz_check(flen > FRAME_QEMU_LIMIT, "corrupt at %zu bytes", flen);
			return;
		}
		fuzz_check(r == FRAME_SCAN_FRAME && flen <= FRAME_QEMU_LIMIT &&
			   off + flen <= len - pos, "frame [%zu, +%zu) in %zu bytes", off, flen,
			   len - pos);
		fuzz_check(frame_decode(codec, buf + pos, off + flen, &o2, &f2) == FRAME_SCAN_FRAME &&
			   o2 == off && f2 == flen, "the frame needs bytes after it");
		fuzz_check(frame_decode(codec, buf + pos, off + flen - 1, &o2, &f2) == FRAME_SCAN_MORE,
			   "a frame found one byte short");
		pos += off + flen;
	}
}

static int fuzz_frames(enum frame_codec codec, const uint8_t *data, size_t size)
{
	long head = frame_post_head(data, size);

	walk(codec, data, size);
	if (head > 0) {
		fuzz_check((size_t)head <= size && head <= FRAME_POST_MAX && head >= 9 &&
			   !memcmp(data, "POST ", 5) && !memcmp(data + head - 4, "\r\n\r\n", 4),
			   "a POST head of %ld bytes", head);
		/* the first empty line ends it, not a later one */
		fuzz_check(memmem(data, (size_t)head, "\r\n\r\n", 4) == data + head - 4,
			   "the head ends after its first empty line");
		fuzz_check(frame_post_head(data, (size_t)head) == head, "head needs bytes after it");
		walk(codec, data + head, size - (size_t)head);
	} else if (head == 0) {
		fuzz_check(size < FRAME_POST_MAX && !memmem(data, size, "\r\n\r\n", 4) &&
			   !memcmp(data, "POST ", size < 5 ? size : 5),
			   "more wanted for a complete head");
	} else if (head == -EPROTO) {
		fuzz_check(memcmp(data, "POST ", size < 5 ? size : 5), "refused a POST");
	} else {
		fuzz_check(head == -E2BIG && size >= FRAME_POST_MAX, "refused with %ld", head);
	}
	return 0;
}

#endif
