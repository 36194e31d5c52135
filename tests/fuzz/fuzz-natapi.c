/* SPDX-License-Identifier: MIT */
/*
 * fuzz-natapi.c - the NAT control API's request handling (nat_api_handle()
 * in src/nat-api.c: the HTTP head, the routes, the JSON body) against a
 * fake engine that records what it is asked.
 *
 * The input is one whole request.  Every answer must be one well-formed
 * HTTP/1.1 response: a status line with a known status, CRLF headers, a
 * Content-Length that is the body's length (HEAD: the length a GET would
 * have), and a JSON body whenever there is one.  The engine may only be
 * asked to expose or unexpose by a POST to that route, with a forward the
 * API has checked.  Each request is answered twice: with room for any
 * response, and with the least room the API takes.
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>

#include "fuzz.h"
#include "nat-api.h"

#define SMALL_CAP 768	/* RESP_MIN_CAP in nat-api.c */

static struct fake {
	struct nat_fwd fwd[8];
	size_t n;
	int exposes, unexposes;
	struct nat_fwd last;
} fk;

static void fake_stats(void *arg, struct nat_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->frames_in = 12345678901234ULL;
	st->bytes_out = UINT64_MAX;
	st->links = 64;
}

static size_t fake_forwards(void *arg, struct nat_fwd *out, size_t max)
{
	size_t n = fk.n < max ? fk.n : max;

	memcpy(out, fk.fwd, n * sizeof(*out));
	return n;
}

/* How the fake answers depends on the port, so the fuzzer reaches every
 * status the API maps errnos to */
static int fake_answer(const struct nat_fwd *f, struct errbuf *err)
{
	static const int rcs[] = { 0, -EEXIST, -ENOENT, -EINVAL, -EACCES, -ENOSPC, -EIO,
				   -EADDRINUSE, 0 };
	int rc = rcs[f->host_port % ARRAY_SIZE(rcs)];

	if (f->host_port % 5 == 1)
		err_set(err, "engine says \"%u\"\n\x01\xff no", (unsigned)f->host_port);
	return rc;
}

static int fake_expose(void *arg, const struct nat_fwd *f, struct errbuf *err)
{
	fk.exposes++;
	fk.last = *f;
	fuzz_check(f->host_port != 0 && f->guest_port != 0 && f->guest_addr.s_addr != 0,
		   "expose of an unchecked forward");
	if (fk.n < ARRAY_SIZE(fk.fwd))
		fk.fwd[fk.n++] = *f;
	return fake_answer(f, err);
}

static int fake_unexpose(void *arg, const struct nat_fwd *f, struct errbuf *err)
{
	fk.unexposes++;
	fk.last = *f;
	fuzz_check(f->host_port != 0, "unexpose of port 0");
	return fake_answer(f, err);
}

static const struct nat_api_ops ops = {
	.stats = fake_stats,
	.forwards = fake_forwards,
	.expose = fake_expose,
	.unexpose = fake_unexpose,
};

/* ---- a strict JSON checker: is @s[*i..] one value? ---- */

static bool json_value(const char *s, size_t len, size_t *i, int depth);

static void json_ws(const char *s, size_t len, size_t *i)
{
	while (*i < len && (s[*i] == ' ' || s[*i] == '\n' || s[*i] == '\r' || s[*i] == '\t'))
		(*i)++;
}

static bool json_string(const char *s, size_t len, size_t *i)
{
	if (*i >= len || s[*i] != '"')
		return false;
	for ((*i)++; *i < len; (*i)++) {
		unsigned char c = (unsigned char)s[*i];

		if (c == '"') {
			(*i)++;
			return true;
		}
		if (c < 0x20 || c >= 0x80)	/* the API promises ASCII */
			return false;
		if (c == '\\') {
			if (++*i >= len || !strchr("\"\\/bfnrtu", s[*i]))
				return false;
			if (s[*i] == 'u') {
				for (int k = 0; k < 4; k++)
					if (++*i >= len || !isxdigit((unsigned char)s[*i]))
						return false;
			}
		}
	}
	return false;
}

static bool json_container(const char *s, size_t len, size_t *i, int depth, char close)
{
	(*i)++;
	json_ws(s, len, i);
	if (*i < len && s[*i] == close) {
		(*i)++;
		return true;
	}
	for (;;) {
		json_ws(s, len, i);
		if (close == '}') {
			if (!json_string(s, len, i))
				return false;
			json_ws(s, len, i);
			if (*i >= len || s[(*i)++] != ':')
				return false;
		}
		if (!json_value(s, len, i, depth + 1))
			return false;
		json_ws(s, len, i);
		if (*i < len && s[*i] == ',') {
			(*i)++;
			continue;
		}
		if (*i < len && s[*i] == close) {
			(*i)++;
			return true;
		}
		return false;
	}
}

static bool json_value(const char *s, size_t len, size_t *i, int depth)
{
	json_ws(s, len, i);
	if (*i >= len || depth > 8)
		return false;
	if (s[*i] == '"')
		return json_string(s, len, i);
	if (s[*i] == '{')
		return json_container(s, len, i, depth, '}');
	if (s[*i] == '[')
		return json_container(s, len, i, depth, ']');
	if (isdigit((unsigned char)s[*i])) {
		while (*i < len && isdigit((unsigned char)s[*i]))
			(*i)++;
		return true;
	}
	return false;
}

/* ---- the response ---- */

static void check_response(const char *req, size_t reqlen, const char *r, size_t n,
			   size_t cap)
{
	const char *end = memmem(r, n, "\r\n\r\n", 4), *cl, *line;
	unsigned long long status, clen;
	size_t head, body;
	bool is_head = reqlen >= 5 && !memcmp(req, "HEAD ", 5);
	char *e;

	fuzz_check(n > 0 && n <= cap, "a %zu-byte response in %zu bytes of room", n, cap);
	fuzz_check(n >= 17 && !memcmp(r, "HTTP/1.1 ", 9) && isdigit((unsigned char)r[9]) &&
		   isdigit((unsigned char)r[10]) && isdigit((unsigned char)r[11]) && r[12] == ' ',
		   "status line \"%.20s\"", r);
	status = strtoull(r + 9, NULL, 10);
	fuzz_check(status >= 200 && status <= 599 && status != 500 ? true : status == 500,
		   "status %llu", status);
	fuzz_check(end != NULL, "no end of the head");
	head = (size_t)(end - r) + 4;
	body = n - head;
	/* every header line: "Name: value", no bare CR or LF inside */
	for (line = memchr(r, '\n', head) + 1; line < r + head - 2;) {
		const char *nl = memchr(line, '\n', (size_t)(r + head - line));

		fuzz_check(nl && nl > line && nl[-1] == '\r' && memchr(line, ':', (size_t)(nl - line)),
			   "header line \"%.*s\"", (int)(nl ? nl - line : 10), line);
		fuzz_check(!memchr(line, '\r', (size_t)(nl - line - 1)), "CR inside a header");
		line = nl + 1;
	}
	cl = memmem(r, head, "\r\nContent-Length: ", 18);
	fuzz_check(cl != NULL, "no Content-Length");
	clen = strtoull(cl + 18, &e, 10);
	fuzz_check(e[0] == '\r' && e[1] == '\n', "Content-Length \"%.10s\"", cl + 18);
	if (is_head && status == 200) {
		fuzz_check(body == 0, "a body of %zu bytes for HEAD", body);
	} else if (!is_head) {
		fuzz_check(clen == body, "Content-Length %llu, body %zu bytes", clen, body);
	}
	if (body) {
		size_t i = 0;

		fuzz_check(memmem(r, head, "\r\nContent-Type: application/json\r\n", 34) != NULL,
			   "a body without its type");
		fuzz_check(json_value(r + head, body, &i, 0), "invalid JSON body \"%.*s\"",
			   (int)body, r + head);
		json_ws(r + head, body, &i);
		fuzz_check(i == body, "bytes after the JSON value");
		if (status != 200)
			fuzz_check(!strncmp(r + head, "{\"error\":\"", 10), "error body \"%.*s\"",
				   (int)body, r + head);
	}
	/* only a POST to the route may change the engine */
	if (fk.exposes)
		fuzz_check(reqlen > 5 && !memcmp(req, "POST ", 5) &&
			   memmem(req, reqlen, "/services/forwarder/expose", 26),
			   "expose from another request");
	if (fk.unexposes)
		fuzz_check(reqlen > 5 && !memcmp(req, "POST ", 5) &&
			   memmem(req, reqlen, "/services/forwarder/unexpose", 28),
			   "unexpose from another request");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char resp[NAT_API_RESP_MAX];
	const char *req = (const char *)data;
	static const size_t caps[] = { NAT_API_RESP_MAX, SMALL_CAP };
	size_t skip = 0;

	if (size > NAT_API_REQ_MAX)
		return 0;	/* the server never hands on more */
	for (size_t k = 0; k < ARRAY_SIZE(caps); k++) {
		size_t n;

		memset(&fk, 0, sizeof(fk));
		/* a few forwards already there, for GET .../all */
		fk.fwd[0] = (struct nat_fwd){ .host_port = 2222, .guest_port = 22 };
		fk.fwd[0].guest_addr.s_addr = htonl(0xc0a87f02);
		fk.fwd[1] = (struct nat_fwd){ .udp = true, .host_port = 5353, .guest_port = 53 };
		fk.fwd[1].host_addr.s_addr = htonl(0x7f000001);
		fk.fwd[1].guest_addr.s_addr = htonl(0xc0a87f03);
		fk.n = 2;
		memset(resp, 0xa5, caps[k]);
		n = nat_api_handle(&ops, NULL, req, size, resp, caps[k]);
		/* empty lines before the request line are allowed (RFC 9112) */
		while (skip < size && (req[skip] == '\r' || req[skip] == '\n'))
			skip++;
		check_response(req + skip, size - skip, resp, n, caps[k]);
	}
	return 0;
}
