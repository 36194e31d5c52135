/* SPDX-License-Identifier: MIT */
/*
 * nat-api.c - the NAT engine's HTTP control API, served on a unix socket
 *
 * DOC: Theory of operation
 *
 * gvproxy lets its users add and remove port forwards while it runs, by
 * HTTP on a unix socket; tools such as podman machine speak to it so.  We
 * answer the same requests with the same JSON, so those tools can drive
 * vrelay's NAT engine unchanged:
 *
 *   GET  /stats                       counters (gvproxy's names where it
 *                                     has them, ours after)
 *   GET  /services/forwarder/all      [{"local","remote","protocol"}...]
 *   POST /services/forwarder/expose   {"local","remote","protocol"}
 *   POST /services/forwarder/unexpose {"local","protocol"}
 *
 * Success is what gvproxy says: 200, and for expose and unexpose an empty
 * body.  Failure is where we differ on purpose: gvproxy answers most
 * failures with 500 and a line of text; we give the 4xx that fits and a
 * JSON body {"error":"..."} (see reply_errno() for the mapping).
 *
 * The work is split in two.  nat_api_handle() takes one whole request and
 * writes one whole response: no I/O, no allocation, so it can be tested on
 * strings.  The server around it owns the listening socket and the client
 * connections in the caller's event loop.  A client is read until its head
 * and Content-Length body are in (at most NAT_API_REQ_MAX bytes), answered,
 * and closed: one request per connection, "Connection: close".  Nothing
 * blocks: sockets are non-blocking, a client gets NAT_API_TIMEOUT seconds
 * to send its request, and at most NAT_API_CLIENTS_MAX are served at once
 * (more are told 503 and closed).  After the response the write side is
 * shut and whatever the client still sends is read and dropped for a
 * moment, so that closing with unread data does not reset the connection
 * under a response the client has not read yet.
 *
 * The JSON reader knows just enough: one flat object of string values.
 * Keys are matched without regard to case (Go's decoder does so, and
 * gvproxy's clients may rely on it), unknown keys are ignored as Go
 * ignores them, a repeated key keeps its last value, and anything nested
 * or not a string is refused.  \u escapes are taken for ASCII only.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "nat-api.h"

#define HTTP_INCOMPLETE		(-1)	/* not a status: read more */
#define RESP_HEAD_ROOM		256	/* status line and headers fit in this */
#define RESP_MIN_CAP		(RESP_HEAD_ROOM + 512)
#define ADDR_TEXT_MAX		64	/* longest "local"/"remote" value taken */
#define DRAIN_SECS		1.0	/* reading and dropping after the response */
#define DRAIN_MAX		((size_t)256 * 1024)
#define ACCEPT_BATCH		16
#define ACCEPT_PAUSE_SECS	1.0	/* out of fds: wait before accepting again */

/* ---- output: a bounded string builder ---- */

struct sbuf {
	char *p;
	size_t cap, len;	/* @cap > 0; one byte stays free for the NUL */
	bool full;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * sb_add() - append formatted text, or mark @b full if it does not fit
 * @b:		the builder
 * @fmt:	printf format
 */
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->full = true;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

/**
 * sb_putc() - append one byte
 * @b:		the builder
 * @c:		the byte
 */
static void sb_putc(struct sbuf *b, char c)
{
	if (b->full || b->len + 1 >= b->cap) {
		b->full = true;
		return;
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

/**
 * sb_json_str() - append @s as a JSON string, quoted and escaped
 * @b:		the builder
 * @s:		NUL-terminated text
 *
 * Bytes outside ASCII become '?': engine messages are ASCII, and a stray
 * byte that is not UTF-8 must not make the whole answer invalid JSON.
 */
static void sb_json_str(struct sbuf *b, const char *s)
{
	sb_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			sb_putc(b, '\\');
			sb_putc(b, (char)c);
		} else if (c == '\n') {
			sb_add(b, "\\n");
		} else if (c == '\t') {
			sb_add(b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			sb_add(b, "\\u%04x", c);
		} else {
			sb_putc(b, c < 0x80 ? (char)c : '?');
		}
	}
	sb_putc(b, '"');
}

/* ---- input: one flat JSON object of strings ---- */

/**
 * struct jfield - a key the caller wants, and where its value goes
 * @name:	key, matched without regard to case
 * @val, @cap:	buffer for the decoded value, NUL-terminated
 * @seen:	the key was present
 */
struct jfield {
	const char *name;
	char *val;
	size_t cap;
	bool seen;
};

struct jparse {
	const char *s;
	size_t len, pos;
	char why[160];
};

static int jp_fail(struct jparse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * jp_fail() - say what is wrong and where
 * @p:		parser state; @p->pos is the offset reported
 * @fmt:	printf format
 *
 * Return: -1
 */
static int jp_fail(struct jparse *p, const char *fmt, ...)
{
	char what[120];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(p->why, sizeof(p->why), "invalid JSON at offset %zu: %s", p->pos, what);
	return -1;
}

/**
 * jp_ws() - skip JSON whitespace
 * @p:		parser state
 */
static void jp_ws(struct jparse *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

/**
 * hexval() - value of one hex digit
 * @c:		the character
 *
 * Return: 0..15, or -1 if @c is not a hex digit
 */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/**
 * jp_string() - decode one JSON string at @p->pos
 * @p:		parser state, left after the closing quote
 * @out:	where the text goes (NULL: only check it); NUL-terminated and
 *		cut to @cap - 1 bytes
 * @cap:	size of @out
 * @outlen:	the decoded length, even where it did not fit
 *
 * Return: 0, or -1 with @p->why set
 */
static int jp_string(struct jparse *p, char *out, size_t cap, size_t *outlen)
{
	size_t n = 0;

	if (p->pos >= p->len || p->s[p->pos] != '"')
		return jp_fail(p, "expected a string");
	p->pos++;
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len)
			return jp_fail(p, "unterminated string");
		c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20)
			return jp_fail(p, "control character in a string");
		p->pos++;
		if (c == '\\') {
			unsigned v = 0;

			if (p->pos >= p->len)
				return jp_fail(p, "unterminated string");
			c = (unsigned char)p->s[p->pos];
			switch (c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'u':
				if (p->len - p->pos < 5)
					return jp_fail(p, "short \\u escape");
				for (int i = 1; i <= 4; i++) {
					int h = hexval(p->s[p->pos + i]);

					if (h < 0)
						return jp_fail(p, "bad \\u escape");
					v = v * 16 + (unsigned)h;
				}
				/* NUL would cut the C string; the rest would
				 * need UTF-8, which no field here can use */
				if (v == 0 || v > 0x7f)
					return jp_fail(p, "only ASCII \\u escapes are supported");
				c = (unsigned char)v;
				p->pos += 4;
				break;
			default:
				return jp_fail(p, "bad escape \\%c",
					       c >= 0x20 && c < 0x7f ? c : '?');
			}
			p->pos++;
		}
		if (out && n + 1 < cap)
			out[n] = (char)c;
		n++;
	}
	if (out && cap)
		out[n < cap ? n : cap - 1] = '\0';
	*outlen = n;
	return 0;
}

/**
 * json_parse_flat() - read one object of string values into @f
 * @s, @len:	the text (need not be NUL-terminated)
 * @f, @nf:	the keys wanted; others are checked and ignored
 * @why:	what was wrong, when it fails
 * @whysz:	size of @why
 *
 * Return: 0, or -1 with @why set
 */
static int json_parse_flat(const char *s, size_t len, struct jfield *f, size_t nf, char *why,
			   size_t whysz)
{
	struct jparse p = { .s = s, .len = len };

	for (size_t i = 0; i < nf; i++)
		f[i].seen = false;
	jp_ws(&p);
	if (p.pos >= p.len) {
		snprintf(why, whysz, "empty body: expected a JSON object");
		return -1;
	}
	if (s[p.pos] != '{') {
		jp_fail(&p, "expected an object");
		goto fail;
	}
	p.pos++;
	jp_ws(&p);
	if (p.pos < p.len && s[p.pos] == '}') {
		p.pos++;
		goto end;
	}
	for (;;) {
		struct jfield *hit = NULL;
		char key[32];
		size_t klen = 0, vlen = 0, start;

		jp_ws(&p);
		if (jp_string(&p, key, sizeof(key), &klen))
			goto fail;
		for (size_t i = 0; klen < sizeof(key) && i < nf; i++)
			if (!strcasecmp(key, f[i].name))
				hit = &f[i];
		jp_ws(&p);
		if (p.pos >= p.len || s[p.pos] != ':') {
			jp_fail(&p, "expected ':'");
			goto fail;
		}
		p.pos++;
		jp_ws(&p);
		if (p.pos >= p.len) {
			jp_fail(&p, "expected a value");
			goto fail;
		}
		if (s[p.pos] == '{' || s[p.pos] == '[') {
			jp_fail(&p, "nested values are not supported");
			goto fail;
		}
		if (s[p.pos] != '"') {
			jp_fail(&p, "values must be strings");
			goto fail;
		}
		start = p.pos;
		if (jp_string(&p, hit ? hit->val : NULL, hit ? hit->cap : 0, &vlen))
			goto fail;
		if (hit) {
			if (vlen >= hit->cap) {
				p.pos = start;
				jp_fail(&p, "value of \"%s\" is too long", hit->name);
				goto fail;
			}
			hit->seen = true;
		}
		jp_ws(&p);
		if (p.pos < p.len && s[p.pos] == ',') {
			p.pos++;
			continue;
		}
		if (p.pos < p.len && s[p.pos] == '}') {
			p.pos++;
			break;
		}
		jp_fail(&p, p.pos < p.len ? "expected ',' or '}'" : "unterminated object");
		goto fail;
	}
end:
	jp_ws(&p);
	if (p.pos == p.len)
		return 0;
	jp_fail(&p, "trailing data after the object");
fail:
	snprintf(why, whysz, "%s", p.why);
	return -1;
}

/* ---- addresses: "[HOST]:PORT" ---- */

/**
 * parse_port() - a decimal port 1..65535, digits only
 * @s:		the text
 * @port:	the result
 *
 * Return: 0, or -1
 */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5)
			return -1;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (!n || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/**
 * parse_hostport() - "IP:PORT", or for a local address also ":PORT"
 *		      (every address) and "localhost:PORT"
 * @what:	"local" or "remote", for the message
 * @s:		the text
 * @local:	an empty host means INADDR_ANY, and "localhost" is taken
 * @addr, @port: the result
 * @why, @whysz: what was wrong
 *
 * Return: 0, or -1 with @why set
 */
static int parse_hostport(const char *what, const char *s, bool local, struct in_addr *addr,
			  uint16_t *port, char *why, size_t whysz)
{
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];
	size_t hl;

	if (s[0] == '[' || (colon && strchr(s, ':') != colon)) {
		snprintf(why, whysz, "%s: IPv6 addresses are not supported: \"%s\"", what, s);
		return -1;
	}
	if (!colon) {
		snprintf(why, whysz, "%s: expected %s:PORT, got \"%s\"", what,
			 local ? "[IP]" : "IP", s);
		return -1;
	}
	hl = (size_t)(colon - s);
	if (hl == 0 && local) {
		addr->s_addr = htonl(INADDR_ANY);
	} else if (hl == 0) {
		snprintf(why, whysz, "%s: an IP address is needed: \"%s\"", what, s);
		return -1;
	} else if (hl >= sizeof(host)) {
		snprintf(why, whysz, "%s: bad IPv4 address in \"%s\"", what, s);
		return -1;
	} else {
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (local && !strcasecmp(host, "localhost")) {
			addr->s_addr = htonl(INADDR_LOOPBACK);
		} else if (inet_pton(AF_INET, host, addr) != 1) {
			snprintf(why, whysz, "%s: bad IPv4 address in \"%s\"", what, s);
			return -1;
		}
	}
	if (!local && addr->s_addr == htonl(INADDR_ANY)) {
		snprintf(why, whysz, "%s: an IP address is needed: \"%s\"", what, s);
		return -1;
	}
	if (parse_port(colon + 1, port)) {
		snprintf(why, whysz, "%s: bad port in \"%s\" (1..65535)", what, s);
		return -1;
	}
	return 0;
}

/**
 * format_hostport() - the inverse of parse_hostport()
 * @a, @port:	the address
 * @local:	INADDR_ANY prints as ":PORT", as gvproxy's users write it
 * @out:	the text
 */
static void format_hostport(struct in_addr a, uint16_t port, bool local, char out[32])
{
	char host[INET_ADDRSTRLEN] = "";

	if (!local || a.s_addr != htonl(INADDR_ANY))
		inet_ntop(AF_INET, &a, host, sizeof(host));
	snprintf(out, 32, "%s:%u", host, (unsigned)port);
}

/* ---- HTTP ---- */

/**
 * struct http_req - what the head of a request said
 * @method, @method_len: the method, as sent (case matters)
 * @target, @target_len: the request target, as sent
 * @head_len:	bytes up to and including the empty line
 * @body_len:	Content-Length (0 without one)
 * @has_len:	a Content-Length was sent
 * @expect_continue: "Expect: 100-continue"
 */
struct http_req {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	size_t head_len;
	uint64_t body_len;
	bool has_len;
	bool expect_continue;
};

/**
 * is_tchar() - whether @c may appear in an HTTP token (method, header name)
 * @c:		the character
 *
 * Return: true if it may
 */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/**
 * parse_request_line() - "METHOD TARGET HTTP/1.x"
 * @l, @ll:	the line, without its end
 * @r:		filled in
 * @why:	what was wrong
 *
 * Return: 0, or an HTTP status
 */
static int parse_request_line(const char *l, size_t ll, struct http_req *r, const char **why)
{
	size_t i = 0, t;

	while (i < ll && is_tchar(l[i]))
		i++;
	if (i == 0 || i > 16 || i >= ll || l[i] != ' ')
		goto bad;
	r->method = l;
	r->method_len = i;
	t = ++i;
	while (i < ll && l[i] > 0x20 && l[i] < 0x7f)
		i++;
	if (i == t || i >= ll || l[i] != ' ')
		goto bad;
	r->target = l + t;
	r->target_len = i - t;
	i++;
	if (ll - i == 8 && !memcmp(l + i, "HTTP/1.", 7) && (l[i + 7] == '0' || l[i + 7] == '1'))
		return 0;
	if (ll - i == 8 && !memcmp(l + i, "HTTP/", 5) && l[i + 5] >= '0' && l[i + 5] <= '9' &&
	    l[i + 6] == '.' && l[i + 7] >= '0' && l[i + 7] <= '9') {
		*why = "only HTTP/1.0 and HTTP/1.1 are supported";
		return 505;
	}
bad:
	*why = "malformed request line";
	return 400;
}

/**
 * parse_header() - one "Name: value" line; only the few that change how
 *		    the request is read are looked at
 * @l, @ll:	the line, without its end
 * @r:		updated
 * @why:	what was wrong
 *
 * Return: 0, or an HTTP status
 */
static int parse_header(const char *l, size_t ll, struct http_req *r, const char **why)
{
	size_t n = 0, v, ve;

	for (size_t i = 0; i < ll; i++) {
		if ((l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f) {
			*why = "control character in a header";
			return 400;
		}
	}
	while (n < ll && is_tchar(l[n]))
		n++;
	if (n == 0 || n >= ll || l[n] != ':') {
		*why = "malformed header line";
		return 400;
	}
	v = n + 1;
	while (v < ll && (l[v] == ' ' || l[v] == '\t'))
		v++;
	ve = ll;
	while (ve > v && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
		ve--;

	if (n == 14 && !strncasecmp(l, "Content-Length", n)) {
		uint64_t len = 0;

		if (ve == v) {
			*why = "bad Content-Length";
			return 400;
		}
		for (size_t i = v; i < ve; i++) {
			if (l[i] < '0' || l[i] > '9') {
				*why = "bad Content-Length";
				return 400;
			}
			/* anything near this big is refused anyway */
			if (len > NAT_API_REQ_MAX * 16ull) {
				*why = "request body is too large";
				return 413;
			}
			len = len * 10 + (uint64_t)(l[i] - '0');
		}
		if (r->has_len && r->body_len != len) {
			*why = "conflicting Content-Length headers";
			return 400;
		}
		r->has_len = true;
		r->body_len = len;
	} else if (n == 17 && !strncasecmp(l, "Transfer-Encoding", n)) {
		*why = "Transfer-Encoding is not supported: send Content-Length";
		return 411;
	} else if (n == 6 && !strncasecmp(l, "Expect", n)) {
		if (ve - v != 12 || strncasecmp(l + v, "100-continue", 12)) {
			*why = "unsupported expectation";
			return 417;
		}
		r->expect_continue = true;
	}
	return 0;
}

/**
 * http_parse_head() - read the head of a request
 * @buf, @len:	what has arrived so far
 * @r:		filled in
 * @why:	what was wrong
 *
 * Lines may end in CRLF or a bare LF; empty lines before the request line
 * are skipped, as RFC 9112 asks.
 *
 * Return: 0 when the head is complete and good, HTTP_INCOMPLETE when more
 *	   must be read, or an HTTP error status
 */
static int http_parse_head(const char *buf, size_t len, struct http_req *r, const char **why)
{
	size_t pos = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	for (;;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end, ll;

		if (!nl) {
			if (len >= NAT_API_REQ_MAX) {
				*why = "request head is too large";
				return 413;
			}
			return HTTP_INCOMPLETE;
		}
		end = (size_t)(nl - buf);
		ll = end - pos;
		if (ll && buf[end - 1] == '\r')
			ll--;
		if (!r->method) {
			if (ll)
				rc = parse_request_line(buf + pos, ll, r, why);
			else
				rc = 0;
		} else if (!ll) {
			pos = end + 1;
			break;
		} else {
			rc = parse_header(buf + pos, ll, r, why);
		}
		if (rc)
			return rc;
		pos = end + 1;
	}
	r->head_len = pos;
	if (pos > NAT_API_REQ_MAX) {
		*why = "request head is too large";
		return 413;
	}
	if (r->body_len > NAT_API_REQ_MAX - pos) {
		*why = "request body is too large";
		return 413;
	}
	return 0;
}

/**
 * struct reply - a response being built
 * @status:	HTTP status
 * @allow:	methods for an Allow header (405), or NULL
 * @head:	a HEAD request: headers only
 * @body:	the body, built in the response buffer after RESP_HEAD_ROOM
 */
struct reply {
	int status;
	const char *allow;
	bool head;
	struct sbuf body;
};

/**
 * status_text() - the reason phrase for the statuses we send
 * @status:	HTTP status
 *
 * Return: the phrase
 */
static const char *status_text(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 417:
		return "Expectation Failed";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Internal Server Error";
	}
}

static void reply_error(struct reply *rep, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * reply_error() - make the response an error with a JSON body
 * @rep:	the response
 * @status:	HTTP status
 * @fmt:	printf format of the message
 */
static void reply_error(struct reply *rep, int status, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rep->status = status;
	rep->body.len = 0;
	rep->body.full = false;
	sb_add(&rep->body, "{\"error\":");
	sb_json_str(&rep->body, msg);
	sb_add(&rep->body, "}\n");
}

/**
 * reply_errno() - make the response the engine's refusal
 * @rep:	the response
 * @rc:		what the engine returned
 * @err:	what it said, if anything
 * @what:	"tcp :6443", for a message of our own
 *
 * Conflicts with the present state (already exposed, not exposed, port
 * taken) are 409, requests the engine finds bad 400, privileged ports
 * 403, lack of resources 503, anything else 500.
 */
static void reply_errno(struct reply *rep, int rc, const struct errbuf *err, const char *what)
{
	int e = rc < 0 ? -rc : EIO, status;
	char dflt[128];

	switch (e) {
	case EEXIST:
	case ENOENT:
	case EADDRINUSE:
	case EBUSY:
		status = 409;
		break;
	case EINVAL:
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
		status = 400;
		break;
	case EACCES:
	case EPERM:
		status = 403;
		break;
	case ENOMEM:
	case ENOBUFS:
	case ENOSPC:
	case EMFILE:
	case ENFILE:
	case EAGAIN:
		status = 503;
		break;
	default:
		status = 500;
		break;
	}
	if (e == EEXIST)
		snprintf(dflt, sizeof(dflt), "%s is already exposed", what);
	else if (e == ENOENT)
		snprintf(dflt, sizeof(dflt), "%s is not exposed", what);
	else
		snprintf(dflt, sizeof(dflt), "%s: %s", what, strerror(e));
	reply_error(rep, status, "%s", err->msg[0] ? err->msg : dflt);
}

/**
 * reply_finish() - put the status line and headers before the body
 * @rep:	the response; its body sits at @resp + RESP_HEAD_ROOM
 * @resp:	the response buffer
 *
 * Return: the length of the whole response
 */
static size_t reply_finish(struct reply *rep, char *resp)
{
	char head[RESP_HEAD_ROOM];
	size_t hl, bl;
	int n;

	if (rep->body.full)
		reply_error(rep, 500, "response too large");
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\n%s%s%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     rep->status, status_text(rep->status),
		     rep->body.len ? "Content-Type: application/json\r\n" : "",
		     rep->allow ? "Allow: " : "", rep->allow ? rep->allow : "",
		     rep->allow ? "\r\n" : "", rep->body.len);
	hl = (size_t)n;	/* the formats above cannot outgrow RESP_HEAD_ROOM */
	bl = rep->head ? 0 : rep->body.len;
	memmove(resp + hl, resp + RESP_HEAD_ROOM, bl);
	memcpy(resp, head, hl);
	return hl + bl;
}

/* ---- the endpoints ---- */

struct route_ctx {
	const struct nat_api_ops *ops;
	void *arg;
	const char *body;
	size_t body_len;
	struct reply *rep;
};

/**
 * get_stats() - GET /stats
 * @c:		the request
 *
 * BytesSent, BytesReceived and DroppedPackets are gvproxy's names, seen
 * from the switch: sent is towards the guests.  The rest are ours.
 */
static void get_stats(struct route_ctx *c)
{
	struct nat_stats st;

	memset(&st, 0, sizeof(st));
	c->ops->stats(c->arg, &st);
	sb_add(&c->rep->body,
	       "{\"BytesSent\":%" PRIu64 ",\"BytesReceived\":%" PRIu64
	       ",\"DroppedPackets\":%" PRIu64 ",\"FramesSent\":%" PRIu64
	       ",\"FramesReceived\":%" PRIu64 ",\"DroppedOversize\":%" PRIu64
	       ",\"DroppedMalformed\":%" PRIu64 ",\"DroppedQueueFull\":%" PRIu64
	       ",\"DroppedUnroutable\":%" PRIu64 ",\"DroppedSynBacklog\":%" PRIu64
	       ",\"DHCPReplies\":%" PRIu64 ",\"DNSStaticAnswers\":%" PRIu64 ",\"Links\":%u"
	       ",\"TCPHalfOpen\":%u}\n",
	       st.bytes_out, st.bytes_in,
	       st.drop_oversize + st.drop_malformed + st.drop_queue + st.drop_unroutable +
		       st.drop_syn_backlog,
	       st.frames_out, st.frames_in, st.drop_oversize, st.drop_malformed, st.drop_queue,
	       st.drop_unroutable, st.drop_syn_backlog, st.dhcp_replies, st.dns_static, st.links,
	       st.tcp_half_open);
}

/**
 * fwd_cmp() - order of GET .../all: by host address, port, then tcp first
 * @a, @b:	two struct nat_fwd
 *
 * Return: <0, 0, >0
 */
static int fwd_cmp(const void *a, const void *b)
{
	const struct nat_fwd *x = a, *y = b;
	uint32_t xa = ntohl(x->host_addr.s_addr), ya = ntohl(y->host_addr.s_addr);

	if (xa != ya)
		return xa < ya ? -1 : 1;
	if (x->host_port != y->host_port)
		return x->host_port < y->host_port ? -1 : 1;
	return (int)x->udp - (int)y->udp;
}

/**
 * get_all() - GET /services/forwarder/all
 * @c:		the request
 */
static void get_all(struct route_ctx *c)
{
	struct nat_fwd list[NAT_API_LIST_MAX];
	size_t n = c->ops->forwards(c->arg, list, ARRAY_SIZE(list));

	if (n > ARRAY_SIZE(list))
		n = ARRAY_SIZE(list);
	qsort(list, n, sizeof(list[0]), fwd_cmp);
	sb_putc(&c->rep->body, '[');
	for (size_t i = 0; i < n; i++) {
		char local[32], remote[32];

		format_hostport(list[i].host_addr, list[i].host_port, true, local);
		format_hostport(list[i].guest_addr, list[i].guest_port, false, remote);
		sb_add(&c->rep->body, "%s{\"local\":\"%s\",\"remote\":\"%s\",\"protocol\":\"%s\"}",
		       i ? "," : "", local, remote, list[i].udp ? "udp" : "tcp");
	}
	sb_add(&c->rep->body, "]\n");
}

/**
 * parse_fwd() - the body of expose and unexpose into @f
 * @c:		the request
 * @want_remote: expose: "remote" is required
 * @f:		the result
 * @what:	"tcp :6443", for messages
 *
 * Return: 0, or -1 with the error response made
 */
static int parse_fwd(struct route_ctx *c, bool want_remote, struct nat_fwd *f, char what[48])
{
	char local[ADDR_TEXT_MAX], remote[ADDR_TEXT_MAX], proto[16], why[200], text[32];
	struct jfield fl[] = {
		{ "local", local, sizeof(local), false },
		{ "remote", remote, sizeof(remote), false },
		{ "protocol", proto, sizeof(proto), false },
	};

	memset(f, 0, sizeof(*f));
	if (json_parse_flat(c->body, c->body_len, fl, ARRAY_SIZE(fl), why, sizeof(why)))
		goto bad;
	if (!fl[0].seen || !local[0]) {
		snprintf(why, sizeof(why), "missing \"local\"");
		goto bad;
	}
	if (want_remote && (!fl[1].seen || !remote[0])) {
		snprintf(why, sizeof(why), "missing \"remote\"");
		goto bad;
	}
	/* gvproxy's default */
	if (!fl[2].seen || !proto[0] || !strcmp(proto, "tcp")) {
		f->udp = false;
	} else if (!strcmp(proto, "udp")) {
		f->udp = true;
	} else if (!strcmp(proto, "unix") || !strcmp(proto, "npipe")) {
		snprintf(why, sizeof(why), "protocol \"%s\" is not supported", proto);
		goto bad;
	} else {
		snprintf(why, sizeof(why), "unknown protocol \"%s\" (tcp or udp)", proto);
		goto bad;
	}
	if (parse_hostport("local", local, true, &f->host_addr, &f->host_port, why, sizeof(why)))
		goto bad;
	if (want_remote && parse_hostport("remote", remote, false, &f->guest_addr, &f->guest_port,
					  why, sizeof(why)))
		goto bad;
	format_hostport(f->host_addr, f->host_port, true, text);
	snprintf(what, 48, "%s %s", f->udp ? "udp" : "tcp", text);
	return 0;
bad:
	reply_error(c->rep, 400, "%s", why);
	return -1;
}

/**
 * post_expose() - POST /services/forwarder/expose
 * @c:		the request
 */
static void post_expose(struct route_ctx *c)
{
	struct errbuf err = { "" };
	struct nat_fwd f;
	char what[48];
	int rc;

	if (parse_fwd(c, true, &f, what))
		return;
	rc = c->ops->expose(c->arg, &f, &err);
	if (rc)
		reply_errno(c->rep, rc, &err, what);
}

/**
 * post_unexpose() - POST /services/forwarder/unexpose
 * @c:		the request
 */
static void post_unexpose(struct route_ctx *c)
{
	struct errbuf err = { "" };
	struct nat_fwd f;
	char what[48];
	int rc;

	if (parse_fwd(c, false, &f, what))
		return;
	rc = c->ops->unexpose(c->arg, &f, &err);
	if (rc)
		reply_errno(c->rep, rc, &err, what);
}

static const struct route {
	const char *path;
	bool post;	/* POST; otherwise GET and HEAD */
	void (*fn)(struct route_ctx *c);
} routes[] = {
	{ "/stats", false, get_stats },
	{ "/services/forwarder/all", false, get_all },
	{ "/services/forwarder/expose", true, post_expose },
	{ "/services/forwarder/unexpose", true, post_unexpose },
};

/**
 * method_is() - compare the request's method, which is case-sensitive
 * @r:		the request
 * @m:		a method name
 *
 * Return: true if they are the same
 */
static bool method_is(const struct http_req *r, const char *m)
{
	return r->method_len == strlen(m) && !memcmp(r->method, m, r->method_len);
}

/**
 * route() - find the endpoint for the request and run it
 * @c:		the request
 * @r:		its head
 */
static void route(struct route_ctx *c, const struct http_req *r)
{
	const char *path = r->target, *end = r->target + r->target_len;
	size_t pl;

	/* absolute form, "http://unix/stats": keep only the path */
	if (r->target_len >= 7 && !strncasecmp(path, "http://", 7)) {
		const char *slash = memchr(path + 7, '/', r->target_len - 7);

		if (!slash) {
			reply_error(c->rep, 400, "bad request target");
			return;
		}
		path = slash;
	}
	for (pl = 0; path + pl < end && path[pl] != '?' && path[pl] != '#'; pl++)
		;
	if (!pl || path[0] != '/') {
		reply_error(c->rep, 400, "bad request target");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		const struct route *rt = &routes[i];
		bool ok = rt->post ? method_is(r, "POST")
				   : method_is(r, "GET") || method_is(r, "HEAD");

		if (strlen(rt->path) != pl || memcmp(rt->path, path, pl))
			continue;
		if (!ok) {
			c->rep->allow = rt->post ? "POST" : "GET, HEAD";
			reply_error(c->rep, 405, "%s takes %s", rt->path,
				    rt->post ? "POST" : "GET");
			return;
		}
		rt->fn(c);
		return;
	}
	reply_error(c->rep, 404, "no such endpoint: %.*s", (int)(pl > 200 ? 200 : pl), path);
}

/**
 * nat_api_handle() - answer one complete request
 * @ops, @arg:	the engine
 * @req, @len:	the request: head and body (need not be NUL-terminated)
 * @resp:	where the response goes
 * @cap:	its size; NAT_API_RESP_MAX holds any response
 *
 * Pure apart from what @ops do: no I/O and no allocation.  A request cut
 * short gets a 400; nothing in @req can make this write past @cap.
 *
 * Return: the length of the response in @resp, or 0 if @cap is too small
 *	   for even an error response
 */
size_t nat_api_handle(const struct nat_api_ops *ops, void *arg, const char *req, size_t len,
		      char *resp, size_t cap)
{
	struct reply rep = { .status = 200 };
	struct route_ctx c = { .ops = ops, .arg = arg, .rep = &rep };
	struct http_req r;
	const char *why = "incomplete request";
	int rc;

	if (cap < RESP_MIN_CAP)
		return 0;
	rep.body = (struct sbuf){ .p = resp + RESP_HEAD_ROOM, .cap = cap - RESP_HEAD_ROOM };
	rep.body.p[0] = '\0';
	rc = http_parse_head(req, len, &r, &why);
	if (rc == HTTP_INCOMPLETE) {
		reply_error(&rep, 400, "%s", why);
	} else if (rc) {
		reply_error(&rep, rc, "%s", why);
	} else if (len - r.head_len < r.body_len) {
		reply_error(&rep, 400, "request body shorter than its Content-Length");
	} else {
		rep.head = method_is(&r, "HEAD");
		c.body = req + r.head_len;
		c.body_len = (size_t)r.body_len;
		route(&c, &r);
	}
	return reply_finish(&rep, resp);
}

/* ---- the server ---- */

enum client_state { CLIENT_READ, CLIENT_WRITE, CLIENT_DRAIN };

/**
 * struct nat_api_client - one API connection
 * @api:	the server
 * @next:	next in @api->clients
 * @w:		watch on the connection
 * @timer:	deadline of the present state
 * @state:	reading the request, writing the response, or draining
 * @buf, @len, @cap: the request so far
 * @out, @out_len, @out_off: the response, and how much is written
 * @drained:	bytes dropped after the response
 * @continued:	"100 Continue" was sent
 */
struct nat_api_client {
	struct nat_api *api;
	struct nat_api_client *next;
	struct loop_watch w;
	struct loop_timer timer;
	enum client_state state;
	char *buf;
	size_t len, cap;
	char *out;
	size_t out_len, out_off;
	size_t drained;
	bool continued;
};

/**
 * struct nat_api - the server
 * @loop:	the caller's event loop
 * @w:		watch on the listening socket
 * @resume:	re-enables accepting after running out of fds
 * @ops, @arg:	the engine
 * @path:	the socket file
 * @dev, @ino:	its identity, so that stopping removes only our own
 * @clients, @nclients: connections being served
 */
struct nat_api {
	struct loop *loop;
	struct loop_watch w;
	struct loop_timer resume;
	const struct nat_api_ops *ops;
	void *arg;
	char *path;
	dev_t dev;
	ino_t ino;
	struct nat_api_client *clients;
	unsigned nclients;
};

/**
 * client_free() - release a closed client, after the loop's batch
 * @arg:	the client
 */
static void client_free(void *arg)
{
	struct nat_api_client *c = arg;

	free(c->buf);
	free(c->out);
	free(c);
}

/**
 * client_close() - end a connection; the memory goes at the end of the
 *		    batch, as events for it may still be pending
 * @c:		the client
 */
static void client_close(struct nat_api_client *c)
{
	struct nat_api *api = c->api;
	struct nat_api_client **pp;

	for (pp = &api->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	api->nclients--;
	loop_timer_cancel(api->loop, &c->timer);
	loop_del(api->loop, &c->w);
	close(c->w.fd);
	c->w.fd = -1;
	/* without room to defer, leaking is safer than freeing too soon */
	if (loop_defer(api->loop, client_free, c))
		log_warn("nat api %s: out of memory, leaking a client", api->path);
}

/**
 * client_drain() - read and drop what the client still sends, until it
 *		    closes
 * @c:		the client
 */
static void client_drain(struct nat_api_client *c)
{
	char tmp[4096];

	for (;;) {
		ssize_t n = recv(c->w.fd, tmp, sizeof(tmp), 0);

		if (n > 0) {
			c->drained += (size_t)n;
			if (c->drained <= DRAIN_MAX)
				continue;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		client_close(c);
		return;
	}
}

/**
 * client_write() - send the response; when it is out, shut the write side
 *		    and drain
 * @c:		the client
 */
static void client_write(struct nat_api_client *c)
{
	struct nat_api *api = c->api;

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->w.fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		client_close(c);
		return;
	}
	free(c->out);
	c->out = NULL;
	shutdown(c->w.fd, SHUT_WR);
	c->state = CLIENT_DRAIN;
	loop_set(api->loop, &c->w, LOOP_IN);
	loop_timer_arm(api->loop, &c->timer, util_now() + DRAIN_SECS);
}

/**
 * log_request() - one line per request at -ddd
 * @c:		the client, with its request and response
 */
static void log_request(const struct nat_api_client *c)
{
	char line[120];
	size_t i;

	if (!log_enabled(LOG_LVL_INFO))
		return;
	/* the request line, with anything unprintable made harmless */
	for (i = 0; i < c->len && i + 1 < sizeof(line); i++) {
		char ch = c->buf[i];

		if (ch == '\r' || ch == '\n')
			break;
		line[i] = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	line[i] = '\0';
	log_info("nat api %s: \"%s\" %.3s", c->api->path, line,
		 c->out_len > 12 ? c->out + 9 : "???");
}

/**
 * client_respond() - answer the request read so far
 * @c:		the client
 */
static void client_respond(struct nat_api_client *c)
{
	struct nat_api *api = c->api;

	c->out = malloc(NAT_API_RESP_MAX);
	if (!c->out) {
		client_close(c);
		return;
	}
	c->out_len = nat_api_handle(api->ops, api->arg, c->buf, c->len, c->out, NAT_API_RESP_MAX);
	log_request(c);
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	c->state = CLIENT_WRITE;
	loop_set(api->loop, &c->w, LOOP_OUT);
	loop_timer_arm(api->loop, &c->timer, util_now() + NAT_API_TIMEOUT);
	client_write(c);
}

/**
 * client_read() - take what has arrived; answer once the request is whole
 * @c:		the client
 */
static void client_read(struct nat_api_client *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct http_req r;
	const char *why;
	bool eof = false, head_done;
	int rc;

	for (;;) {
		ssize_t n;

		if (c->len == c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 4096;
			char *p;

			if (c->cap >= NAT_API_REQ_MAX)
				break;
			if (ncap > NAT_API_REQ_MAX)
				ncap = NAT_API_REQ_MAX;
			p = realloc(c->buf, ncap);
			if (!p) {
				client_close(c);
				return;
			}
			c->buf = p;
			c->cap = ncap;
		}
		n = recv(c->w.fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0) {
			eof = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		client_close(c);
		return;
	}
	if (eof && !c->len) {
		client_close(c);
		return;
	}
	rc = http_parse_head(c->buf, c->len, &r, &why);
	head_done = !rc;
	if (!rc && c->len - r.head_len < r.body_len)
		rc = HTTP_INCOMPLETE;
	/* a whole buffer always parses to an answer; see http_parse_head() */
	if (rc == HTTP_INCOMPLETE && !eof) {
		if (head_done && r.expect_continue && !c->continued) {
			c->continued = true;
			/* a fresh socket has room for this; if not, the
			 * client sends its body after its own timeout */
			if (send(c->w.fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL) < 0)
				log_debug("nat api %s: 100 Continue: %s", c->api->path,
					  strerror(errno));
		}
		return;
	}
	client_respond(c);
}

/**
 * client_event() - the connection is ready
 * @loop:	the loop
 * @w:		the client's watch
 * @events:	LOOP_IN and/or LOOP_OUT
 */
static void client_event(struct loop *loop, struct loop_watch *w, unsigned events)
{
	struct nat_api_client *c = w->arg;

	(void)loop;
	(void)events;
	switch (c->state) {
	case CLIENT_READ:
		client_read(c);
		break;
	case CLIENT_WRITE:
		client_write(c);
		break;
	case CLIENT_DRAIN:
		client_drain(c);
		break;
	}
}

/**
 * client_timeout() - the client took too long: drop it
 * @loop:	the loop
 * @t:		the client's timer
 */
static void client_timeout(struct loop *loop, struct loop_timer *t)
{
	struct nat_api_client *c = t->arg;

	(void)loop;
	if (c->state == CLIENT_READ)
		log_info("nat api %s: client sent no whole request in %.0f s, dropped",
			 c->api->path, NAT_API_TIMEOUT);
	client_close(c);
}

/**
 * refuse_busy() - tell a client over the limit to come back later
 * @fd:		its connection, closed here
 */
static void refuse_busy(int fd)
{
	static const char body[] = "{\"error\":\"too many API clients, try again\"}\n";
	char msg[256];
	int n;

	n = snprintf(msg, sizeof(msg),
		     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     sizeof(body) - 1, body);
	/* best effort: a new socket's buffer takes this much without waiting */
	if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("refusing an API client: %s", strerror(errno));
	close(fd);
}

/**
 * client_new() - start serving a connection
 * @api:	the server
 * @fd:		the connection, non-blocking
 *
 * Return: 0, or a negative errno with @fd closed
 */
static int client_new(struct nat_api *api, int fd)
{
	struct nat_api_client *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->api = api;
	c->state = CLIENT_READ;
	c->w = (struct loop_watch){ .fd = fd, .fn = client_event, .arg = c };
	rc = loop_add(api->loop, &c->w, LOOP_IN);
	if (rc) {
		close(fd);
		free(c);
		return rc;
	}
	loop_timer_init(&c->timer, client_timeout, c);
	loop_timer_arm(api->loop, &c->timer, util_now() + NAT_API_TIMEOUT);
	c->next = api->clients;
	api->clients = c;
	api->nclients++;
	return 0;
}

/**
 * api_resume() - accept again after a pause for want of fds
 * @loop:	the loop
 * @t:		@api->resume
 */
static void api_resume(struct loop *loop, struct loop_timer *t)
{
	struct nat_api *api = t->arg;

	loop_set(loop, &api->w, LOOP_IN);
}

/**
 * api_accept() - take waiting connections, a batch at a time
 * @loop:	the loop
 * @w:		the listener's watch
 * @events:	LOOP_IN
 */
static void api_accept(struct loop *loop, struct loop_watch *w, unsigned events)
{
	struct nat_api *api = w->arg;

	(void)events;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		/* cppcheck's gnu.cfg wrongly says accept4()'s addrlen may not be NULL */
		// cppcheck-suppress nullPointer
		int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* level-triggered: the listener stays ready,
				 * so stop watching it for a moment */
				log_warn("nat api %s: accept: %s", api->path, strerror(errno));
				loop_set(loop, w, 0);
				loop_timer_arm(loop, &api->resume, util_now() + ACCEPT_PAUSE_SECS);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_warn("nat api %s: accept: %s", api->path, strerror(errno));
			}
			return;
		}
		if (api->nclients >= NAT_API_CLIENTS_MAX) {
			log_info("nat api %s: %d clients already, refused one", api->path,
				 NAT_API_CLIENTS_MAX);
			refuse_busy(fd);
			continue;
		}
		if (client_new(api, fd))
			log_warn("nat api %s: cannot serve a client: out of memory", api->path);
	}
}

/**
 * remove_stale() - clear the way for our socket: remove a socket file
 *		    nobody listens on, refuse anything else
 * @path:	the socket path
 * @sa, @salen:	it as an address
 * @err:	why not
 *
 * Return: 0, or a negative errno
 */
static int remove_stale(const char *path, const struct sockaddr_un *sa, socklen_t salen,
			struct errbuf *err)
{
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		err_set(err, "%s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) {
		err_set(err, "%s: exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = errno;
		err_set(err, "socket: %s", strerror(e));
		return -e;
	}
	rc = connect(fd, (const struct sockaddr *)sa, salen);
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		err_set(err, "%s: in use by another server", path);
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED) {
		err_set(err, "%s: %s", path, strerror(e));
		return -e;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		e = errno;
		err_set(err, "%s: cannot remove stale socket: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/**
 * api_free() - release a stopped server, after the loop's batch
 * @arg:	the server
 */
static void api_free(void *arg)
{
	struct nat_api *api = arg;

	free(api->path);
	free(api);
}

/**
 * nat_api_start() - serve the API on a unix socket
 * @loop:	the event loop to serve in
 * @path:	the socket file: made with mode 0600, replacing a stale one,
 *		removed by nat_api_stop()
 * @ops, @arg:	the engine; @ops must outlive the server
 * @err:	why not
 *
 * Return: the server, or NULL with @err set
 */
struct nat_api *nat_api_start(struct loop *loop, const char *path, const struct nat_api_ops *ops,
			      void *arg, struct errbuf *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	struct nat_api *api;
	struct stat st;
	mode_t old;
	int rc, e;

	if (!path || !*path) {
		err_set(err, "empty API socket path");
		return NULL;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		err_set(err, "%s: path too long for a unix socket (%zu bytes at most)", path,
			sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	salen = (socklen_t)sizeof(sa);
	api = calloc(1, sizeof(*api));
	if (!api || !(api->path = strdup(path))) {
		free(api);
		err_set(err, "out of memory");
		return NULL;
	}
	api->loop = loop;
	api->ops = ops;
	api->arg = arg;
	loop_timer_init(&api->resume, api_resume, api);
	api->w = (struct loop_watch){ .fd = -1, .fn = api_accept, .arg = api };
	if (remove_stale(path, &sa, salen, err))
		goto fail;
	api->w.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (api->w.fd < 0) {
		err_set(err, "socket: %s", strerror(errno));
		goto fail;
	}
	/* born 0600, so that nobody else can connect in between */
	old = umask(0177);
	rc = bind(api->w.fd, (struct sockaddr *)&sa, salen);
	e = errno;
	umask(old);
	if (rc < 0) {
		err_set(err, "%s: bind: %s", path, strerror(e));
		goto fail;
	}
	if (chmod(path, 0600) < 0 || stat(path, &st) < 0) {
		err_set(err, "%s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	api->dev = st.st_dev;
	api->ino = st.st_ino;
	if (listen(api->w.fd, NAT_API_CLIENTS_MAX) < 0) {
		err_set(err, "%s: listen: %s", path, strerror(errno));
		goto fail_unlink;
	}
	rc = loop_add(loop, &api->w, LOOP_IN);
	if (rc) {
		err_set(err, "%s: %s", path, strerror(-rc));
		goto fail_unlink;
	}
	log_notice("nat api: listening on %s", path);
	return api;

fail_unlink:
	unlink(path);
fail:
	if (api->w.fd >= 0)
		close(api->w.fd);
	free(api->path);
	free(api);
	return NULL;
}

/**
 * nat_api_stop() - close every connection and the socket, remove its file
 * @api:	the server, or NULL
 *
 * Call it before loop_free(), and not from inside an @ops callback.  The
 * file is removed only if it is still the one nat_api_start() made.
 */
void nat_api_stop(struct nat_api *api)
{
	struct stat st;

	if (!api)
		return;
	while (api->clients)
		client_close(api->clients);
	loop_timer_cancel(api->loop, &api->resume);
	loop_del(api->loop, &api->w);
	close(api->w.fd);
	if (stat(api->path, &st) == 0 && st.st_dev == api->dev && st.st_ino == api->ino)
		unlink(api->path);
	if (loop_defer(api->loop, api_free, api))
		log_warn("nat api %s: out of memory, leaking the server", api->path);
}
