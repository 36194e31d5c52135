/* SPDX-License-Identifier: MIT */
/*
 * fuzz-vsockmux.c - what a VSOCK-MUX VMM answers to "CONNECT <port>\n"
 * (vmm_mux_reply() in src/vmm-proto.h, the classifier the handshake in
 * src/addr-vsockmux.c runs on peeked bytes), and the quoting of those
 * bytes for messages.
 *
 * The input is what the VMM sent.  It is classified whole and at every
 * prefix, as it may arrive byte by byte: a prefix that needs more may
 * become anything, but an answer once given must stay the same, and an OK
 * must be exactly "OK" or "OK <digits>" and a newline.
 */
#include "config.h"

#include <ctype.h>

#include "fuzz.h"
#include "vmm-proto.h"

#define REPLY_MAX 64	/* as in addr-vsockmux.c */

static void check_quote(const char *buf, size_t len)
{
	char shown[4 * REPLY_MAX + 8];

	vmm_quote(buf, len, shown, sizeof(shown));
	fuzz_check(strlen(shown) < sizeof(shown), "quoted text overran");
	for (const char *p = shown; *p; p++)
		fuzz_check(isprint((unsigned char)*p), "unprintable byte 0x%02x in a message",
			   (unsigned char)*p);
	/* short inputs are shown whole: four bytes at most for each */
	if (len <= REPLY_MAX)
		fuzz_check(strlen(shown) >= len, "%zu bytes quoted as %zu", len, strlen(shown));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t len = size < REPLY_MAX ? size : REPLY_MAX, line = 0, first_line = 0;
	enum vmm_mux_reply whole, first = VMM_MUX_MORE;

	whole = vmm_mux_reply(buf, len, REPLY_MAX, &line);
	switch (whole) {
	case VMM_MUX_OK:
		fuzz_check(line >= 3 && line <= len && buf[line - 1] == '\n', "line of %zu", line);
		fuzz_check(toupper((unsigned char)buf[0]) == 'O' &&
			   toupper((unsigned char)buf[1]) == 'K', "OK without OK");
		fuzz_check(line == 3 || buf[2] == ' ', "OK then no space");
		for (size_t i = 3; i + 1 < line; i++)
			fuzz_check(isdigit((unsigned char)buf[i]), "OK with a non-digit");
		fuzz_check(line != 4, "\"OK \" with no number");
		break;
	case VMM_MUX_MALFORMED:
		fuzz_check(line >= 1 && line <= len && buf[line - 1] == '\n', "line of %zu", line);
		fuzz_check(!vmm_mux_is_ok_line(buf, line - 1), "a good line called malformed");
		break;
	case VMM_MUX_TOO_LONG:
		fuzz_check(len == REPLY_MAX && !memchr(buf, '\n', len), "too long at %zu", len);
		break;
	case VMM_MUX_MORE:
		fuzz_check(len < REPLY_MAX && !memchr(buf, '\n', len), "more wanted after a line");
		break;
	case VMM_MUX_NOT_OK:
		break;
	}
	/* byte by byte: the first definite answer is the answer */
	for (size_t n = 0; n <= len; n++) {
		size_t l = 0;
		enum vmm_mux_reply r = vmm_mux_reply(buf, n, REPLY_MAX, &l);

		if (first == VMM_MUX_MORE) {
			first = r;
			first_line = l;
		}
		if (first != VMM_MUX_MORE)
			fuzz_check(r == first && l == first_line,
				   "after %zu bytes: %d (line %zu), earlier %d (line %zu)", n, r, l,
				   first, first_line);
	}
	fuzz_check(first == whole, "whole: %d, byte by byte: %d", whole, first);
	check_quote(buf, size);
	return 0;
}
