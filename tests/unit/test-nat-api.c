/* SPDX-License-Identifier: MIT */
/*
 * test-nat-api.c - unit tests of nat_api_handle() (src/nat-api.c) against
 * an engine made of a small array, TAP on stdout (the plan comes last)
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat-api.h"
#include "tap.h"

/* ---- the fake engine ---- */

#define FAKE_MAX 8

static struct fake {
	struct nat_fwd fwd[FAKE_MAX];
	size_t n;
	struct nat_stats st;
	struct nat_fwd last;	/* what the last expose or unexpose was given */
	int calls;
} fk;

static bool same_host(const struct nat_fwd *a, const struct nat_fwd *b)
{
	return a->udp == b->udp && a->host_addr.s_addr == b->host_addr.s_addr &&
	       a->host_port == b->host_port;
}

static void fake_stats(void *arg, struct nat_stats *st)
{
	*st = ((struct fake *)arg)->st;
}

static size_t fake_forwards(void *arg, struct nat_fwd *out, size_t max)
{
	struct fake *f = arg;
	size_t n = f->n < max ? f->n : max;

	memcpy(out, f->fwd, n * sizeof(*out));
	return n;
}

/* host port 1 is privileged, 2 is taken by someone else, 3 makes the
 * engine fail in a way the API has no better status for */
static int fake_expose(void *arg, const struct nat_fwd *fw, struct errbuf *err)
{
	struct fake *f = arg;

	f->calls++;
	f->last = *fw;
	if (fw->host_port == 1)
		return -EACCES;
	if (fw->host_port == 2) {
		err_set(err, "port \"2\" is\nbusy\x01\xff");
		return -EADDRINUSE;
	}
	if (fw->host_port == 3)
		return -EIO;
	for (size_t i = 0; i < f->n; i++)
		if (same_host(&f->fwd[i], fw))
			return -EEXIST;
	if (f->n == FAKE_MAX)
		return -ENOSPC;
	f->fwd[f->n++] = *fw;
	return 0;
}

static int fake_unexpose(void *arg, const struct nat_fwd *fw, struct errbuf *err)
{
	struct fake *f = arg;

	(void)err;
	f->calls++;
	f->last = *fw;
	for (size_t i = 0; i < f->n; i++) {
		if (same_host(&f->fwd[i], fw)) {
			f->fwd[i] = f->fwd[--f->n];
			return 0;
		}
	}
	return -ENOENT;
}

static const struct nat_api_ops ops = {
	.stats = fake_stats,
	.forwards = fake_forwards,
	.expose = fake_expose,
	.unexpose = fake_unexpose,
};

/* ---- running a request and looking at the response ---- */

#define GUARD 64

static char out[NAT_API_RESP_MAX + GUARD];
static size_t out_len;
static int status;
static const char *body;
static size_t body_len;
static bool well_formed;	/* status line, headers and Content-Length agree */

static bool has_header(const char *line)
{
	const char *end = strstr(out, "\r\n\r\n");
	const char *p = strstr(out, line);

	return p && end && p < end;
}

/* Run @len bytes of @req; check the response's shape */
static int run_len(const char *req, size_t len)
{
	const char *end;
	const char *cl;
	unsigned long n;

	memset(out, 0x5a, sizeof(out));
	out_len = nat_api_handle(&ops, &fk, req, len, out, NAT_API_RESP_MAX);
	status = -1;
	body = NULL;
	body_len = 0;
	well_formed = false;
	for (size_t i = NAT_API_RESP_MAX; i < sizeof(out); i++)
		if (out[i] != 0x5a)
			return status;
	if (out_len == 0 || out_len > NAT_API_RESP_MAX)
		return status;
	out[out_len] = '\0';
	/* NOLINTNEXTLINE(cert-err34-c): three digits cannot overflow an int */
	if (strncmp(out, "HTTP/1.1 ", 9) || sscanf(out + 9, "%3d", &status) != 1)
		return status = -1;
	end = strstr(out, "\r\n\r\n");
	cl = strstr(out, "\r\nContent-Length: ");
	if (!end || !cl || cl > end)
		return status;
	body = end + 4;
	body_len = out_len - (size_t)(body - out);
	n = strtoul(cl + 18, NULL, 10);
	well_formed = n == body_len && has_header("\r\nConnection: close\r\n");
	return status;
}

static int run(const char *req)
{
	return run_len(req, strlen(req));
}

static int post(const char *path, const char *json)
{
	static char req[4096];

	snprintf(req, sizeof(req),
		 "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 path, strlen(json), json);
	return run(req);
}

static int expose(const char *json)
{
	return post("/services/forwarder/expose", json);
}

static int unexpose(const char *json)
{
	return post("/services/forwarder/unexpose", json);
}

static bool body_is(const char *want)
{
	return body && body_len == strlen(want) && !memcmp(body, want, body_len);
}

/* {"error":"..."}\n with nothing raw inside the string that JSON forbids */
static bool error_body(void)
{
	static const char pre[] = "{\"error\":\"", post_[] = "\"}\n";
	size_t pl = sizeof(pre) - 1, sl = sizeof(post_) - 1;

	if (!body || body_len < pl + sl + 1 || memcmp(body, pre, pl) ||
	    memcmp(body + body_len - sl, post_, sl))
		return false;
	if (!has_header("\r\nContent-Type: application/json\r\n"))
		return false;
	for (size_t i = pl; i < body_len - sl; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c < 0x20 || c >= 0x7f)
			return false;
		if (c == '\\') {
			i++;
			continue;
		}
		if (c == '"')
			return false;
	}
	return true;
}

static bool body_has(const char *s)
{
	return body && strstr(body, s);
}

/* a 4xx with a proper JSON error, and the engine left alone */
static void bad_expose(const char *json, int want, const char *name)
{
	int calls = fk.calls;

	expose(json);
	ok(status == want && well_formed && error_body() && fk.calls == calls,
	   "%s -> %d (got %d: %.*s)", name, want, status, (int)body_len, body ? body : "");
}

static void test_stats(void)
{
	fk.st = (struct nat_stats){ .frames_in = 10, .bytes_in = 1000, .frames_out = 20,
				    .bytes_out = 2000, .drop_oversize = 1, .drop_malformed = 2,
				    .drop_queue = 3, .dhcp_replies = 4, .dns_static = 5,
				    .links = 1, .drop_syn_backlog = 7, .tcp_half_open = 8 };
	fk.st.bytes_out = 18446744073709551615ull;
	run("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
	ok(status == 200 && well_formed, "GET /stats -> 200 (got %d)", status);
	ok(body_is("{\"BytesSent\":18446744073709551615,\"BytesReceived\":1000,"
		   "\"DroppedPackets\":13,\"FramesSent\":20,\"FramesReceived\":10,"
		   "\"DroppedOversize\":1,\"DroppedMalformed\":2,\"DroppedQueueFull\":3,\"DroppedUnroutable\":0,"
		   "\"DroppedSynBacklog\":7,"
		   "\"DHCPReplies\":4,\"DNSStaticAnswers\":5,\"Links\":1,\"TCPHalfOpen\":8}\n"),
	   "stats body has gvproxy's and our keys: %.*s", (int)body_len, body ? body : "");
	ok(has_header("\r\nContent-Type: application/json\r\n"), "stats is application/json");

	run("HEAD /stats HTTP/1.1\r\n\r\n");
	ok(status == 200 && body_len == 0 && !has_header("Content-Length: 0\r\n"),
	   "HEAD /stats: headers only, with the length of the body");
	run("GET /stats HTTP/1.0\r\n\r\n");
	ok(status == 200 && well_formed, "HTTP/1.0 without Host -> 200");
	run("GET /stats?pretty=1 HTTP/1.1\n\n");
	ok(status == 200 && well_formed, "bare LF line ends and a query string -> 200");
	run("\r\nGET http://unix/stats HTTP/1.1\r\nHost: unix\r\n\r\n");
	ok(status == 200 && well_formed, "absolute-form target, leading CRLF -> 200");
}

static void test_forwarder(void)
{
	struct in_addr a;

	run("GET /services/forwarder/all HTTP/1.1\r\nHost: x\r\n\r\n");
	ok(status == 200 && body_is("[]\n"), "empty list is []");

	expose("{\"local\":\":6443\",\"remote\":\"192.168.127.2:6443\",\"protocol\":\"tcp\"}");
	inet_pton(AF_INET, "192.168.127.2", &a);
	ok(status == 200 && well_formed && body_len == 0 &&
	   !has_header("Content-Type:"), "expose -> 200, empty body (got %d)", status);
	ok(fk.n == 1 && !fk.last.udp && fk.last.host_addr.s_addr == htonl(INADDR_ANY) &&
	   fk.last.host_port == 6443 && fk.last.guest_addr.s_addr == a.s_addr &&
	   fk.last.guest_port == 6443, "expose reached the engine as tcp *:6443 -> guest");

	expose("{\"local\":\":6443\",\"remote\":\"192.168.127.2:6443\",\"protocol\":\"tcp\"}");
	ok(status == 409 && error_body() && body_has("tcp :6443 is already exposed"),
	   "expose again -> 409 (got %d: %.*s)", status, (int)body_len, body ? body : "");

	expose("{ \"remote\" : \"192.168.127.3:22\" ,\n\t\"local\":\"127.0.0.1:2222\" }");
	ok(status == 200 && !fk.last.udp && fk.last.host_port == 2222 &&
	   fk.last.host_addr.s_addr == htonl(INADDR_LOOPBACK), "protocol omitted -> tcp");
	expose("{\"local\":\"localhost:53\",\"remote\":\"192.168.127.3:53\",\"protocol\":\"udp\"}");
	ok(status == 200 && fk.last.udp && fk.last.host_addr.s_addr == htonl(INADDR_LOOPBACK),
	   "udp on localhost");
	expose("{\"Local\":\"0.0.0.0:8080\",\"REMOTE\":\"10.0.0.1:80\",\"protocol\":\"\"}");
	ok(status == 200 && fk.last.host_port == 8080 && fk.last.guest_port == 80 &&
	   !fk.last.udp, "keys match without regard to case; empty protocol is tcp");
	expose("{\"local\":\":1\",\"local\":\":7000\",\"remote\":\"10.0.0.1:7\",\"x\":\"{[\"}");
	ok(status == 200 && fk.last.host_port == 7000, "a repeated key keeps its last value; "
	   "unknown keys are ignored");
	expose("{\"l\\u006fcal\":\":7001\",\"remote\":\"10.0.0.1\\u003a77\",\"a\\/b\":\"\\/\"}");
	ok(status == 200 && fk.last.host_port == 7001 && fk.last.guest_port == 77,
	   "\\u and \\/ escapes are decoded");

	run("GET /services/forwarder/all HTTP/1.1\r\n\r\n");
	ok(status == 200 &&
	   body_is("[{\"local\":\":6443\",\"remote\":\"192.168.127.2:6443\",\"protocol\":\"tcp\"},"
		   "{\"local\":\":7000\",\"remote\":\"10.0.0.1:7\",\"protocol\":\"tcp\"},"
		   "{\"local\":\":7001\",\"remote\":\"10.0.0.1:77\",\"protocol\":\"tcp\"},"
		   "{\"local\":\":8080\",\"remote\":\"10.0.0.1:80\",\"protocol\":\"tcp\"},"
		   "{\"local\":\"127.0.0.1:53\",\"remote\":\"192.168.127.3:53\",\"protocol\":\"udp\"},"
		   "{\"local\":\"127.0.0.1:2222\",\"remote\":\"192.168.127.3:22\",\"protocol\":\"tcp\"}"
		   "]\n"),
	   "list: sorted, every address as \":PORT\" (got %.*s)", (int)body_len, body ? body : "");

	unexpose("{\"local\":\":6443\",\"protocol\":\"tcp\"}");
	ok(status == 200 && body_len == 0 && fk.last.host_port == 6443 && fk.n == 5,
	   "unexpose -> 200");
	unexpose("{\"local\":\":6443\",\"protocol\":\"tcp\"}");
	ok(status == 409 && error_body() && body_has("tcp :6443 is not exposed"),
	   "unexpose again -> 409 (got %d)", status);
	unexpose("{\"local\":\"127.0.0.1:53\"}");
	ok(status == 409, "unexpose without protocol means tcp: udp forward untouched");
	unexpose("{\"local\":\"127.0.0.1:53\",\"remote\":\"ignored\",\"protocol\":\"udp\"}");
	ok(status == 200 && fk.n == 4, "unexpose udp; remote is not looked at");
	run("GET /services/forwarder/all HTTP/1.1\r\n\r\n");
	ok(status == 200 && !body_has(":6443") && !body_has("udp"), "list no longer shows them");

	/* the engine's refusals */
	expose("{\"local\":\":1\",\"remote\":\"10.0.0.1:1\"}");
	ok(status == 403 && error_body(), "engine -EACCES -> 403 (got %d)", status);
	expose("{\"local\":\":2\",\"remote\":\"10.0.0.1:1\"}");
	ok(status == 409 && error_body() && body_has("port \\\"2\\\" is\\nbusy\\u0001?"),
	   "engine -EADDRINUSE -> 409 with its message escaped (%.*s)", (int)body_len,
	   body ? body : "");
	expose("{\"local\":\":3\",\"remote\":\"10.0.0.1:1\"}");
	ok(status == 500 && error_body(), "engine -EIO -> 500 (got %d)", status);
	while (fk.n < FAKE_MAX) {
		char json[128];

		snprintf(json, sizeof(json), "{\"local\":\":%zu\",\"remote\":\"10.0.0.9:1\"}",
			 20000 + fk.n);
		if (expose(json) != 200)
			break;
	}
	expose("{\"local\":\":9999\",\"remote\":\"10.0.0.1:1\"}");
	ok(status == 503 && error_body(), "engine -ENOSPC -> 503 (got %d)", status);
}

static void test_bad_json(void)
{
	static const struct {
		const char *json, *name;
	} bad[] = {
		{ "", "empty body" },
		{ "   ", "only whitespace" },
		{ "{", "unterminated object" },
		{ "{\"local\":\":80\"", "no closing brace" },
		{ "[]", "an array" },
		{ "\"local\"", "a bare string" },
		{ "{\"local\":80,\"remote\":\"10.0.0.1:80\"}", "a number value" },
		{ "{\"local\":null,\"remote\":\"10.0.0.1:80\"}", "a null value" },
		{ "{\"local\":{\"a\":\"b\"},\"remote\":\"10.0.0.1:80\"}", "a nested object" },
		{ "{\"local\":[\":80\"],\"remote\":\"10.0.0.1:80\"}", "a nested array" },
		{ "{\"local\":\":80\",\"remote\":\"10.0.0.1:80\"} x", "trailing garbage" },
		{ "{\"local\":\":80\",\"remote\":\"10.0.0.1:80\"}{}", "two objects" },
		{ "{\"local\":\":80\",\"remote\":\"10.0.0.1:80\",}", "trailing comma" },
		{ "{\"local\" \":80\",\"remote\":\"10.0.0.1:80\"}", "missing colon" },
		{ "{\"local\":\":80\" \"remote\":\"10.0.0.1:80\"}", "missing comma" },
		{ "{local:\":80\",\"remote\":\"10.0.0.1:80\"}", "unquoted key" },
		{ "{\"local\":\":80,\"remote\":\"10.0.0.1:80\"}", "unbalanced quotes" },
		{ "{\"local\":\":8\\x0\",\"remote\":\"10.0.0.1:80\"}", "bad escape" },
		{ "{\"local\":\":8\\u00e9\",\"remote\":\"10.0.0.1:80\"}", "non-ASCII \\u" },
		{ "{\"local\":\":8\\u0000\",\"remote\":\"10.0.0.1:80\"}", "\\u0000" },
		{ "{\"local\":\":8\\u00\",\"remote\":\"10.0.0.1:80\"}", "short \\u" },
		{ "{\"local\":\":8\\u00zz\",\"remote\":\"10.0.0.1:80\"}", "bad hex in \\u" },
		{ "{\"local\":\":8\t0\",\"remote\":\"10.0.0.1:80\"}", "raw tab in a string" },
		{ "{\"local\":\":80\\", "ends in a backslash" },
		{ "{\"remote\":\"10.0.0.1:80\"}", "missing local" },
		{ "{\"local\":\"\",\"remote\":\"10.0.0.1:80\"}", "empty local" },
		{ "{\"local\":\":80\"}", "missing remote" },
		{ "{\"local\":\":80\",\"remote\":\":80\"}", "remote without IP" },
		{ "{\"local\":\":80\",\"remote\":\"0.0.0.0:80\"}", "remote 0.0.0.0" },
		{ "{\"local\":\"80\",\"remote\":\"10.0.0.1:80\"}", "local without colon" },
		{ "{\"local\":\":0\",\"remote\":\"10.0.0.1:80\"}", "port 0" },
		{ "{\"local\":\":65536\",\"remote\":\"10.0.0.1:80\"}", "port 65536" },
		{ "{\"local\":\":080000\",\"remote\":\"10.0.0.1:80\"}", "six-digit port" },
		{ "{\"local\":\":-1\",\"remote\":\"10.0.0.1:80\"}", "negative port" },
		{ "{\"local\":\": 80\",\"remote\":\"10.0.0.1:80\"}", "space in port" },
		{ "{\"local\":\":\",\"remote\":\"10.0.0.1:80\"}", "no port" },
		{ "{\"local\":\"1.2.3:80\",\"remote\":\"10.0.0.1:80\"}", "three-part address" },
		{ "{\"local\":\"1.2.3.256:80\",\"remote\":\"10.0.0.1:80\"}", "octet 256" },
		{ "{\"local\":\"example.com:80\",\"remote\":\"10.0.0.1:80\"}", "a host name" },
		{ "{\"local\":\"[::1]:80\",\"remote\":\"10.0.0.1:80\"}", "IPv6 local" },
		{ "{\"local\":\":80\",\"remote\":\"fe80::1:80\"}", "IPv6 remote" },
		{ "{\"local\":\":80\",\"remote\":\"10.0.0.1:80\",\"protocol\":\"sctp\"}",
		  "unknown protocol" },
		{ "{\"local\":\":80\",\"remote\":\"10.0.0.1:80\",\"protocol\":\"TCP\"}",
		  "protocol is case-sensitive, as gvproxy's" },
		{ "{\"local\":\"/tmp/s\",\"remote\":\"tcp://10.0.0.1:80\",\"protocol\":\"unix\"}",
		  "unix protocol" },
		{ "{\"local\":\":800000000000000000000000000000000000000000000000000000000000000000"
		  "00000000000\",\"remote\":\"10.0.0.1:80\"}",
		  "overlong local" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		bad_expose(bad[i].json, 400, bad[i].name);
	unexpose("{\"local\":\"nope\"}");
	ok(status == 400 && error_body(), "unexpose with a bad local -> 400");
	expose("{\"local\":1}");
	ok(body_has("invalid JSON at offset 9"), "the error says where (%.*s)", (int)body_len,
	   body ? body : "");
}

static void test_http(void)
{
	char *big;
	size_t calls = (size_t)fk.calls;

	run("GET /nope HTTP/1.1\r\n\r\n");
	ok(status == 404 && well_formed && error_body(), "unknown path -> 404");
	run("GET /services/forwarder/all/ HTTP/1.1\r\n\r\n");
	ok(status == 404, "trailing slash -> 404");
	run("GET /services/forwarder HTTP/1.1\r\n\r\n");
	ok(status == 404, "prefix of a path -> 404");
	run("GET /Stats HTTP/1.1\r\n\r\n");
	ok(status == 404, "paths are case-sensitive");
	run("GET /services/forwarder/expose HTTP/1.1\r\n\r\n");
	ok(status == 405 && error_body() && has_header("\r\nAllow: POST\r\n"),
	   "GET on expose -> 405, Allow: POST");
	post("/stats", "{}");
	ok(status == 405 && has_header("\r\nAllow: GET, HEAD\r\n"), "POST on /stats -> 405");
	run("get /stats HTTP/1.1\r\n\r\n");
	ok(status == 405, "methods are case-sensitive");
	run("DELETE /services/forwarder/unexpose HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	ok(status == 405, "DELETE on unexpose -> 405");

	run("POST /services/forwarder/expose HTTP/1.1\r\nContent-Length: 100000\r\n\r\n{}");
	ok(status == 413 && well_formed && error_body(), "Content-Length 100000 -> 413");
	run("POST /services/forwarder/expose HTTP/1.1\r\n"
	    "Content-Length: 99999999999999999999999999999\r\n\r\n");
	ok(status == 413 && error_body(), "Content-Length beyond 64 bits -> 413");
	big = malloc(NAT_API_REQ_MAX + 100);
	memset(big, 'a', NAT_API_REQ_MAX + 100);
	memcpy(big, "GET /stats HTTP/1.1\r\nX-Long: ", 29);
	run_len(big, NAT_API_REQ_MAX + 100);
	ok(status == 413 && error_body(), "head larger than 64 KiB -> 413");
	free(big);

	run("POST /services/forwarder/expose HTTP/1.1\r\nHost: x\r\n\r\n");
	ok(status == 400 && body_has("empty body"), "expose without a body -> 400");
	run("POST /services/forwarder/expose HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	ok(status == 400 && error_body(), "expose with Content-Length 0 -> 400");
	run("POST /services/forwarder/expose HTTP/1.1\r\nContent-Length: 50\r\n\r\n{}");
	ok(status == 400 && body_has("shorter"), "body shorter than Content-Length -> 400");
	run("POST /services/forwarder/expose HTTP/1.1\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n{}{}{}");
	ok(status == 400, "conflicting Content-Lengths -> 400");
	run("POST /services/forwarder/expose HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n");
	ok(status == 400, "Content-Length in hex -> 400");
	run("POST /services/forwarder/expose HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\n{}\r\n0\r\n\r\n");
	ok(status == 411 && error_body(), "chunked body -> 411");
	run("POST /services/forwarder/expose HTTP/1.1\r\nExpect: something\r\n\r\n");
	ok(status == 417 && error_body(), "unknown Expect -> 417");
	fk.fwd[fk.n++] = (struct nat_fwd){ .host_port = 7000 };
	run("POST /services/forwarder/unexpose HTTP/1.1\r\nExpect: 100-Continue\r\n"
	    "Content-Length: 17\r\n\r\n{\"local\":\":7000\"}");
	ok(status == 200, "Expect: 100-continue is fine");

	run("GET /stats HTTP/2.0\r\n\r\n");
	ok(status == 505 && error_body(), "HTTP/2.0 -> 505");
	run("GET /stats\r\n\r\n");
	ok(status == 400 && error_body(), "HTTP/0.9 request line -> 400");
	run("GET  /stats HTTP/1.1\r\n\r\n");
	ok(status == 400, "two spaces in the request line -> 400");
	run("GET /stats HTTP/1.1\r\nno colon here\r\n\r\n");
	ok(status == 400, "header without a colon -> 400");
	run("GET /stats HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n");
	ok(status == 400, "obsolete header folding -> 400");
	run("GET /stats HTTP/1.1\r\nX-A : 1\r\n\r\n");
	ok(status == 400, "space before the colon -> 400");
	run_len("GET /stats HTTP/1.1\r\nX-A: \0\r\n\r\n",
		sizeof("GET /stats HTTP/1.1\r\nX-A: \0\r\n\r\n") - 1);
	ok(status == 400, "NUL in a header -> 400");
	run("GET /st\x01ts HTTP/1.1\r\n\r\n");
	ok(status == 400, "control character in the target -> 400");
	run("GET * HTTP/1.1\r\n\r\n");
	ok(status == 400, "asterisk target -> 400");
	run("GET http://unix HTTP/1.1\r\n\r\n");
	ok(status == 400, "absolute form without a path -> 400");
	run("GET /stats HTTP/1.1\r\n");
	ok(status == 400 && error_body(), "head without its empty line -> 400");
	run_len("", 0);
	ok(status == 400 && error_body(), "nothing at all -> 400");
	ok((size_t)fk.calls == calls + 1, "only the one good request reached the engine");
	memset(out, 0x5a, sizeof(out));
	ok(nat_api_handle(&ops, &fk, "GET /stats HTTP/1.1\r\n\r\n", 23, out, 100) == 0 &&
	   out[0] == 0x5a && out[100] == 0x5a,
	   "a response buffer too small for anything gives 0");
}

/* Every cut of a good request, and random damage to it, gets a
 * well-formed answer and never a crash or an overrun. */
static void test_robust(void)
{
	static const char json[] =
		"{\"local\":\":4242\",\"remote\":\"1.2.3.4:42\",\"protocol\":\"udp\"}";
	char good[256], buf[256];
	size_t len, bad = 0;
	unsigned seed = 12345;
	int calls = fk.calls;

	len = (size_t)snprintf(good, sizeof(good),
			       "POST /services/forwarder/expose HTTP/1.1\r\nHost: x\r\n"
			       "Content-Length: %zu\r\n\r\n%s",
			       sizeof(json) - 1, json);

	for (size_t cut = 0; cut < len; cut++) {
		run_len(good, cut);
		if (status < 400 || !well_formed || !error_body())
			bad++;
	}
	ok(!bad && fk.calls == calls, "every prefix of a request -> 4xx, engine untouched");
	run_len(good, len);
	ok(status == 200 && fk.last.udp && fk.last.host_port == 4242, "the whole of it -> 200");
	unexpose("{\"local\":\":4242\",\"protocol\":\"udp\"}");

	for (int i = 0; i < 20000; i++) {
		memcpy(buf, good, len);
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] = (char)(seed >> 20);
		}
		run_len(buf, len);
		if (!well_formed || status < 200 || (status >= 400 && !error_body()))
			bad++;
		if (status == 200 && fk.n) {
			/* damage that still parses: undo it */
			fk.n = 0;
		}
	}
	ok(!bad, "20000 damaged requests: every answer well-formed (%zu not)", bad);
}

int main(void)
{
	test_stats();
	test_forwarder();
	fk.n = 0;
	test_bad_json();
	test_http();
	fk.n = 0;
	test_robust();
	return tap_end();
}
