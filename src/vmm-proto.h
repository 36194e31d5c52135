/* SPDX-License-Identifier: MIT */
/*
 * vmm-proto.h - the bytes of the VMMs' vsock-over-unix conventions, as
 *		 pure functions: VSOCK-MUX's reply line and HyperKit's
 *		 connect header (addr-vsockmux.c and addr-hyperkit.c do the
 *		 I/O; tests/fuzz drives these on arbitrary bytes)
 */
#ifndef VRELAY_VMM_PROTO_H
#define VRELAY_VMM_PROTO_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* What the bytes a VMM sent after "CONNECT <port>\n" are so far */
enum vmm_mux_reply {
	VMM_MUX_MORE,		/* the start of an OK line: read more */
	VMM_MUX_OK,		/* "OK" or "OK <digits>", then '\n' */
	VMM_MUX_NOT_OK,		/* no OK line at all (an old VMM: guest data) */
	VMM_MUX_MALFORMED,	/* a line that began like one and is not */
	VMM_MUX_TOO_LONG,	/* @max bytes and no newline */
};

/* "OK" or "OK <digits>" (any number: Firecracker's host-side port or
 * vhost-device-vsock's guest port), case-insensitive */
static inline bool vmm_mux_is_ok_line(const char *line, size_t len)
{
	if (len < 2 || toupper((unsigned char)line[0]) != 'O' ||
	    toupper((unsigned char)line[1]) != 'K')
		return false;
	if (len == 2)
		return true;
	if (line[2] != ' ' || len == 3)
		return false;
	for (size_t i = 3; i < len; i++)
		if (!isdigit((unsigned char)line[i]))
			return false;
	return true;
}

/**
 * vmm_mux_reply() - classify what a VSOCK-MUX VMM has sent so far
 * @buf, @len:	every byte received (or peeked) since CONNECT
 * @max:	the longest reply line taken
 * @line:	for VMM_MUX_OK and VMM_MUX_MALFORMED, the line's length with
 *		its newline: the bytes after it are the guest's
 * Return: enum vmm_mux_reply
 */
static inline enum vmm_mux_reply vmm_mux_reply(const char *buf, size_t len, size_t max,
					       size_t *line)
{
	static const char ok[] = "OK ";
	const char *nl;

	/* "OK " or "OK\n" so far, as far as it goes */
	for (size_t i = 0; i < len && i < 3; i++)
		if (toupper((unsigned char)buf[i]) != ok[i] && !(i == 2 && buf[i] == '\n'))
			return VMM_MUX_NOT_OK;
	nl = memchr(buf, '\n', len < max ? len : max);
	if (nl) {
		*line = (size_t)(nl - buf) + 1;
		return vmm_mux_is_ok_line(buf, *line - 1) ? VMM_MUX_OK : VMM_MUX_MALFORMED;
	}
	return len >= max ? VMM_MUX_TOO_LONG : VMM_MUX_MORE;
}

/**
 * vmm_quote() - a VMM's bytes as text for a message: printable ASCII, with
 *		 \n and \xNN escapes; cut where @out is full
 * @out, @size:	always NUL-terminated (@size >= 1)
 */
static inline void vmm_quote(const char *buf, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 5 < size; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n')
			n += (size_t)snprintf(out + n, size - n, "\\n");
		else if (isprint(c) && c != '"' && c != '\\')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
	}
	out[n] = '\0';
}

/* HyperKit's connect header: "%08x.%08x\n", guest CID and port */
#define VMM_HYPERKIT_HEADER_LEN 18

/**
 * vmm_hyperkit_header() - the header HYPERKIT-UNIX writes to <dir>/connect
 * @out:	VMM_HYPERKIT_HEADER_LEN bytes and a NUL
 * Return: VMM_HYPERKIT_HEADER_LEN
 */
static inline size_t vmm_hyperkit_header(uint32_t cid, uint32_t port,
					 char out[VMM_HYPERKIT_HEADER_LEN + 1])
{
	snprintf(out, VMM_HYPERKIT_HEADER_LEN + 1, "%08x.%08x\n", (unsigned)cid, (unsigned)port);
	return VMM_HYPERKIT_HEADER_LEN;
}

#endif
