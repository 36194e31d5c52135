/* SPDX-License-Identifier: MIT */
/*
 * loadecho.c - the load of the soak tests: an echo server, and clients that
 * hold many connections at once, each verified byte for byte.  In C (epoll,
 * one thread) because the test guest has no python, and because one process
 * holding 10,000 connections should cost little next to the relay it loads.
 *
 * Addresses are "tcp:HOST:PORT" (numeric IPv4 or IPv6, optionally in [])
 * or "unix:PATH".  Every wait is bounded by --timeout (default 120 s): past
 * it the command fails.
 *
 *   loadecho [--timeout S] echo LISTEN|--port P [--ready FILE]
 *	echo server: each connection gets its bytes back, then, once the peer
 *	has shut down its write side, our write side is shut down (EOF passed
 *	on after the data) and the connection closed.  --port P means
 *	tcp:127.0.0.1:P.  The ready file gets the port (or the path) once it
 *	listens.  Runs until killed.
 *   loadecho [--timeout S] hold CONNECT -n N [--size B] [--parallel K]
 *	     [--peak FILE --go FILE]
 *	open N connections and keep every one of them open; the payload of
 *	each is "conn I of N\n" + B random bytes (default 1000).  Opening a
 *	connection means connecting and getting the payload's first line
 *	echoed (so the relay has accepted it and connected it on); at most K
 *	(default 256) are opening at once.  Then on all of them at once, the
 *	rest of the payload goes out and the whole echo is checked byte for
 *	byte.  With --peak, write the number verified to FILE (all N
 *	connections still open: the moment to measure the relay) and wait
 *	for FILE --go to exist.  Then shut each write side down, expect EOF,
 *	close.
 *   loadecho [--timeout S] seq CONNECT -n N [--size B]
 *	N connections one after the other: each sends its own payload, shuts
 *	its write side down and must read exactly that back, then EOF.
 *
 * Output: hold prints "opened O of N in Ts", "verified V of N in Ts",
 * "closed C of N in Ts" as each phase ends, then one summary line
 * "loadecho: hold n=N opened=O verified=V closed=C failed=F secs=T";
 * seq prints "verified V of N".  Exit 0 only if every connection was
 * verified (and, for hold, closed cleanly); 1 otherwise; 2 for bad usage.
 * The first few failures are described on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPORTS 5 /* failures described on stderr; the rest are counted */

static double timeout_s = 120;
static double t_start;
static int reports;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("loadecho: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* report() - describe one failed connection on stderr, the first few only */
static void report(const char *fmt, ...)
{
	va_list ap;

	if (reports++ >= MAX_REPORTS)
		return;
	fputs("loadecho: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static long parse_num(const char *what, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("%s: not a number in %ld..%ld: '%s'", what, min, max, s);
	return v;
}

/* parse_addr() - "tcp:HOST:PORT" or "unix:PATH" into @ss; Return: its length */
static socklen_t parse_addr(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (!strncmp(text, "unix:", 5)) {
		struct sockaddr_un *sun = (struct sockaddr_un *)ss;

		if (strlen(text + 5) >= sizeof(sun->sun_path) || !text[5])
			die("bad unix path in '%s'", text);
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, text + 5);
		return sizeof(*sun);
	}
	if (!strncmp(text, "tcp:", 4)) {
		const char *colon = strrchr(text + 4, ':');
		char host[INET6_ADDRSTRLEN + 2];
		size_t hl;
		int port;

		if (!colon)
			die("bad address '%s' (tcp:HOST:PORT or unix:PATH)", text);
		port = (int)parse_num("port", colon + 1, 0, 65535);
		hl = (size_t)(colon - (text + 4));
		if (hl >= 2 && text[4] == '[' && colon[-1] == ']') {
			text++;
			hl -= 2;
		}
		if (hl >= sizeof(host))
			die("bad host in '%s'", text);
		memcpy(host, text + 4, hl);
		host[hl] = 0;
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
			return sizeof(*sin);
		}
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
			return sizeof(*sin6);
		}
		die("not a numeric IP address: '%s'", host);
	}
	die("bad address '%s' (tcp:HOST:PORT or unix:PATH)", text);
	return 0;
}

/* write_atomic() - @text into @path by rename, so a reader never sees half */
static void write_atomic(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) || rename(tmp, path))
		die("%s: %s", path, strerror(errno));
}

/* raise_nofile() - soft fd limit up to the hard one: one fd per connection */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void epoll_set(int ep, int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = {.events = events, .data.ptr = ptr};

	if (epoll_ctl(ep, op, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

/* --- echo ----------------------------------------------------------------- */

/* One echo connection: what the peer has not taken yet waits in @pend */
struct echo_conn {
	int fd;
	bool eof; /* the peer shut down its write side */
	char *pend;
	size_t plen, poff;
};

static void echo_close(struct echo_conn *c)
{
	close(c->fd);
	free(c->pend);
	free(c);
}

/*
 * echo_flush() - write what is pending; once all is written after the peer's
 * EOF, shut our side down and close.  Return: false if @c is gone.
 */
static bool echo_flush(int ep, struct echo_conn *c)
{
	while (c->poff < c->plen) {
		ssize_t w = send(c->fd, c->pend + c->poff, c->plen - c->poff, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* no reading until the peer takes what it sent */
			epoll_set(ep, EPOLL_CTL_MOD, c->fd, EPOLLOUT, c);
			return true;
		}
		if (w < 0) {
			echo_close(c);
			return false;
		}
		c->poff += (size_t)w;
	}
	free(c->pend);
	c->pend = NULL;
	c->plen = c->poff = 0;
	if (c->eof) {
		shutdown(c->fd, SHUT_WR);
		echo_close(c);
		return false;
	}
	epoll_set(ep, EPOLL_CTL_MOD, c->fd, EPOLLIN, c);
	return true;
}

static void echo_read(int ep, struct echo_conn *c)
{
	static char buf[65536];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		echo_close(c);
		return;
	}
	if (n == 0)
		c->eof = true;
	c->pend = malloc((size_t)n + 1);
	if (!c->pend)
		die("out of memory");
	memcpy(c->pend, buf, (size_t)n);
	c->plen = (size_t)n;
	echo_flush(ep, c);
}

static int cmd_echo(int argc, char **argv)
{
	const char *listen_at = NULL, *ready = NULL;
	struct sockaddr_storage ss;
	struct epoll_event evs[256];
	socklen_t len;
	int lfd, ep, one = 1;
	char where[256], port_addr[32];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ready") && i + 1 < argc) {
			ready = argv[++i];
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc && !listen_at) {
			snprintf(port_addr, sizeof(port_addr), "tcp:127.0.0.1:%s", argv[++i]);
			listen_at = port_addr;
		} else if (!listen_at && argv[i][0] != '-') {
			listen_at = argv[i];
		} else {
			die("usage: loadecho echo LISTEN|--port P [--ready FILE]");
		}
	}
	if (!listen_at)
		die("usage: loadecho echo LISTEN|--port P [--ready FILE]");
	len = parse_addr(listen_at, &ss);
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	if (ss.ss_family != AF_UNIX)
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, len) < 0 || listen(lfd, 4096) < 0)
		die("%s: %s", listen_at, strerror(errno));
	if (ss.ss_family == AF_UNIX) {
		snprintf(where, sizeof(where), "%s\n", ((struct sockaddr_un *)&ss)->sun_path);
	} else {
		len = sizeof(ss);
		getsockname(lfd, (struct sockaddr *)&ss, &len);
		snprintf(where, sizeof(where), "%u\n",
			 ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						       : ((struct sockaddr_in6 *)&ss)->sin6_port));
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	epoll_set(ep, EPOLL_CTL_ADD, lfd, EPOLLIN, NULL);
	if (ready)
		write_atomic(ready, where);

	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct echo_conn *c = evs[i].data.ptr;

			if (c && (evs[i].events & EPOLLOUT))
				echo_flush(ep, c);
			else if (c)
				echo_read(ep, c);
			else
				for (int k = 0; k < 64; k++) {
					int fd =
					    accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

					/* EMFILE too: the rest wait in the backlog */
					if (fd < 0)
						break;
					c = calloc(1, sizeof(*c));
					if (!c)
						die("out of memory");
					c->fd = fd;
					epoll_set(ep, EPOLL_CTL_ADD, fd, EPOLLIN, c);
				}
		}
	}
	return 0;
}

/* --- hold ----------------------------------------------------------------- */

enum conn_state {
	C_IDLE,	      /* not yet connecting */
	C_CONNECTING, /* connect() in flight */
	C_GREETING,   /* connected; the payload's first line going out and back */
	C_OPEN,	      /* open through to the echo server; waiting for phase 2 */
	C_EXCHANGE,   /* the rest of the payload going out, echo coming back */
	C_VERIFIED,   /* the whole echo matched */
	C_CLOSING,    /* write side shut down, waiting for EOF */
	C_CLOSED,     /* EOF seen, closed: done */
	C_FAILED,
};

struct conn {
	int fd;
	enum conn_state state;
	unsigned idx;
	unsigned char *data; /* the payload */
	size_t len, sent, got;
	size_t head;   /* the length of its first line */
	size_t goal;   /* how much of it the current phase sends and checks */
	bool inflight; /* counted in hold.inflight */
};

struct hold {
	int ep;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct conn *c;
	unsigned n;
	unsigned busy;	   /* connections not yet done with the current phase */
	unsigned inflight; /* connections opening (connect to greeting echoed) */
};

/* conn_drop() - give up on @c: describe why, close it */
static void conn_drop(struct hold *h, struct conn *c, const char *what, int err)
{
	if (err)
		report("connection %u: %s: %s", c->idx, what, strerror(err));
	else
		report("connection %u: %s", c->idx, what);
	if (c->inflight)
		h->inflight--;
	c->inflight = false;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = C_FAILED;
}

/* conn_fail() - conn_drop() a connection the current phase waits for */
static void conn_fail(struct hold *h, struct conn *c, const char *what, int err)
{
	conn_drop(h, c, what, err);
	h->busy--;
}

/* conn_connect() - start one connect; false if the backlog is full (retry) */
static bool conn_connect(struct hold *h, struct conn *c)
{
	int fd = socket(h->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		conn_fail(h, c, "socket", errno);
		return true;
	}
	c->fd = fd;
	if (!connect(fd, (struct sockaddr *)&h->ss, h->sslen) || errno == EINPROGRESS) {
		c->state = C_CONNECTING;
		c->inflight = true;
		h->inflight++;
		epoll_set(h->ep, EPOLL_CTL_ADD, fd, EPOLLOUT, c);
		return true;
	}
	/*
	 * A non-blocking AF_UNIX connect fails with EAGAIN while the listener's
	 * backlog is full, and nothing is left pending: try again later.  Any
	 * other failure is a connection lost (no retry).
	 */
	if (errno == EAGAIN && h->ss.ss_family == AF_UNIX) {
		close(fd);
		c->fd = -1;
		return false;
	}
	conn_fail(h, c, "connect", errno);
	return true;
}

/* conn_send() - as much of the payload as the socket takes */
static void conn_send(struct hold *h, struct conn *c)
{
	while (c->sent < c->goal) {
		ssize_t w = send(c->fd, c->data + c->sent, c->goal - c->sent, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w < 0) {
			conn_fail(h, c, "send", errno);
			return;
		}
		c->sent += (size_t)w;
	}
	epoll_set(h->ep, EPOLL_CTL_MOD, c->fd, EPOLLIN, c);
}

/* conn_recv() - the echo, compared with the payload as it comes */
static void conn_recv(struct hold *h, struct conn *c)
{
	unsigned char buf[65536];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_fail(h, c, c->state == C_CLOSING ? "waiting for EOF" : "recv", errno);
		return;
	}
	if (c->state == C_CLOSING) {
		if (n > 0) {
			conn_fail(h, c, "extra bytes before EOF", 0);
			return;
		}
		close(c->fd);
		c->fd = -1;
		c->state = C_CLOSED;
		h->busy--;
		return;
	}
	if (n == 0) {
		char what[64];

		snprintf(what, sizeof(what), "EOF after %zu of %zu bytes of echo", c->got, c->len);
		conn_fail(h, c, what, 0);
		return;
	}
	if ((size_t)n > c->goal - c->got || memcmp(buf, c->data + c->got, (size_t)n)) {
		conn_fail(h, c, "echo differs from what was sent", 0);
		return;
	}
	c->got += (size_t)n;
	if (c->got == c->goal) {
		/* idle until the next phase: nothing more may arrive */
		epoll_set(h->ep, EPOLL_CTL_MOD, c->fd, 0, c);
		c->state = c->state == C_GREETING ? C_OPEN : C_VERIFIED;
		if (c->inflight)
			h->inflight--;
		c->inflight = false;
		h->busy--;
	}
}

static void conn_event(struct hold *h, struct conn *c, uint32_t events)
{
	int err = 0;
	socklen_t el = sizeof(err);

	switch (c->state) {
	case C_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			conn_fail(h, c, "connect", err);
			return;
		}
		c->state = C_GREETING;
		epoll_set(h->ep, EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLOUT, c);
		return;
	case C_GREETING:
	case C_EXCHANGE:
		if (events & EPOLLOUT)
			conn_send(h, c);
		if ((c->state == C_GREETING || c->state == C_EXCHANGE) &&
		    (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			conn_recv(h, c);
		return;
	case C_CLOSING:
		conn_recv(h, c);
		return;
	default:
		/*
		 * An idle connection (open, or verified) waits for no event;
		 * epoll reports EPOLLERR and EPOLLHUP all the same: the relay
		 * dropped it.
		 */
		conn_drop(h, c, "closed by the peer while idle", 0);
		return;
	}
}

/* run_phase() - the event loop until no connection is busy; false on timeout */
static bool run_phase(struct hold *h, unsigned parallel)
{
	struct epoll_event evs[512];
	unsigned next = 0;

	while (h->busy) {
		int wait_ms = 100, n;

		if (now() - t_start > timeout_s)
			return false;
		/* phase 1: keep up to @parallel connections opening */
		while (parallel && next < h->n && h->inflight < parallel) {
			struct conn *c = &h->c[next];

			if (!conn_connect(h, c)) {
				wait_ms = 10; /* AF_UNIX backlog full */
				break;
			}
			next++;
		}
		n = epoll_wait(h->ep, evs, 512, wait_ms);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			conn_event(h, evs[i].data.ptr, evs[i].events);
	}
	return true;
}

static unsigned count(struct hold *h, enum conn_state s)
{
	unsigned k = 0;

	for (unsigned i = 0; i < h->n; i++)
		k += h->c[i].state == s;
	return k;
}

/* wait_file() - until @path exists; false after the timeout */
static bool wait_file(const char *path)
{
	const struct timespec tick = {0, 50 * 1000 * 1000};

	while (access(path, F_OK)) {
		if (now() - t_start > timeout_s)
			return false;
		nanosleep(&tick, NULL);
	}
	return true;
}

/* make_payload() - "conn I of N\n" + @size random bytes */
static unsigned char *make_payload(unsigned i, unsigned n, size_t size, size_t *len)
{
	char head[64];
	int hl = snprintf(head, sizeof(head), "conn %u of %u\n", i, n);
	unsigned char *p = malloc((size_t)hl + size);
	size_t off = 0;

	if (!p)
		die("out of memory");
	memcpy(p, head, (size_t)hl);
	while (off < size) {
		ssize_t r = getrandom(p + hl + off, size - off, 0);

		if (r < 0 && errno != EINTR)
			die("getrandom: %s", strerror(errno));
		if (r > 0)
			off += (size_t)r;
	}
	*len = (size_t)hl + size;
	return p;
}

static void hold_usage(void)
{
	die("usage: loadecho hold CONNECT -n N [--size B] [--parallel K] [--peak FILE --go FILE]");
}

static int cmd_hold(int argc, char **argv)
{
	const char *connect_to = NULL, *peak = NULL, *go = NULL;
	unsigned parallel = 256;
	size_t size = 1000;
	struct hold h = {.n = 0};
	double t0, t1, t2, t3;
	unsigned opened, verified, closed;
	bool in_time;
	char text[32];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			h.n = (unsigned)parse_num("-n", argv[++i], 1, 1000000);
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = (size_t)parse_num("--size", argv[++i], 1, 1 << 24);
		else if (!strcmp(argv[i], "--parallel") && i + 1 < argc)
			parallel = (unsigned)parse_num("--parallel", argv[++i], 1, 100000);
		else if (!strcmp(argv[i], "--peak") && i + 1 < argc)
			peak = argv[++i];
		else if (!strcmp(argv[i], "--go") && i + 1 < argc)
			go = argv[++i];
		else if (!connect_to && argv[i][0] != '-')
			connect_to = argv[i];
		else
			hold_usage();
	}
	if (!connect_to || !h.n || !peak != !go)
		hold_usage();
	h.sslen = parse_addr(connect_to, &h.ss);
	h.ep = epoll_create1(EPOLL_CLOEXEC);
	h.c = calloc(h.n, sizeof(*h.c));
	if (h.ep < 0 || !h.c)
		die("setup: %s", strerror(errno));
	for (unsigned i = 0; i < h.n; i++) {
		h.c[i].fd = -1;
		h.c[i].idx = i;
		h.c[i].data = make_payload(i, h.n, size, &h.c[i].len);
		h.c[i].head = h.c[i].len - size;
		h.c[i].goal = h.c[i].head;
	}

	/*
	 * 1: every connection opened and held.  A connection counts as open
	 * once the first line of its payload has come back: only then has
	 * the relay accepted it and connected it on.  Keeping at most
	 * @parallel connections short of that keeps the relay's listen queue
	 * from overflowing when it accepts slowly (under TCG): a client whose
	 * handshake ACK the full queue dropped takes the connection for open,
	 * and the kernel resets it if the listener gives up on it first.
	 */
	t0 = now();
	h.busy = h.n;
	in_time = run_phase(&h, parallel);
	opened = count(&h, C_OPEN);
	t1 = now();
	printf("opened %u of %u in %.1fs\n", opened, h.n, t1 - t0);
	fflush(stdout);

	/* 2: on every one at once, the payload out and its echo back */
	h.busy = 0;
	for (unsigned i = 0; i < h.n; i++) {
		struct conn *c = &h.c[i];

		if (c->state != C_OPEN)
			continue;
		c->state = C_EXCHANGE;
		c->goal = c->len;
		h.busy++;
		epoll_set(h.ep, EPOLL_CTL_MOD, c->fd, EPOLLIN | EPOLLOUT, c);
	}
	in_time = in_time && run_phase(&h, 0);
	verified = count(&h, C_VERIFIED);
	t2 = now();
	printf("verified %u of %u in %.1fs\n", verified, h.n, t2 - t1);
	fflush(stdout);

	/* the peak: every verified connection is still open */
	if (peak && in_time) {
		snprintf(text, sizeof(text), "%u\n", verified);
		write_atomic(peak, text);
		in_time = wait_file(go);
	}

	/* 3: write sides shut down; the relay must pass EOF both ways */
	t3 = now();
	h.busy = 0;
	for (unsigned i = 0; i < h.n && in_time; i++) {
		struct conn *c = &h.c[i];

		if (c->state != C_VERIFIED)
			continue;
		if (shutdown(c->fd, SHUT_WR) < 0) {
			h.busy++;
			conn_fail(&h, c, "shutdown", errno);
			continue;
		}
		c->state = C_CLOSING;
		h.busy++;
		epoll_set(h.ep, EPOLL_CTL_MOD, c->fd, EPOLLIN, c);
	}
	in_time = in_time && run_phase(&h, 0);
	closed = count(&h, C_CLOSED);
	printf("closed %u of %u in %.1fs\n", closed, h.n, now() - t3);
	if (!in_time)
		fprintf(stderr, "loadecho: hold: not done after %gs\n", timeout_s);
	printf("loadecho: hold n=%u opened=%u verified=%u closed=%u failed=%u secs=%.1f\n", h.n,
	       opened, verified, closed, count(&h, C_FAILED), now() - t0);
	return verified == h.n && closed == h.n ? 0 : 1;
}

/* --- seq ------------------------------------------------------------------ */

static int cmd_seq(int argc, char **argv)
{
	const char *connect_to = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned n = 0, ok = 0;
	size_t size = 1000;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = (unsigned)parse_num("-n", argv[++i], 1, 10000000);
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = (size_t)parse_num("--size", argv[++i], 0, 1 << 16);
		else if (!connect_to && argv[i][0] != '-')
			connect_to = argv[i];
		else
			die("usage: loadecho seq CONNECT -n N [--size B]");
	}
	if (!connect_to || !n)
		die("usage: loadecho seq CONNECT -n N [--size B]");
	sslen = parse_addr(connect_to, &ss);
	for (unsigned i = 0; i < n; i++) {
		double left = timeout_s - (now() - t_start);
		struct timeval tv = {(time_t)left, (suseconds_t)((left - (time_t)left) * 1e6)};
		size_t len, got = 0;
		unsigned char *data, *back;
		bool same = true;
		int fd;

		if (left <= 0) {
			fprintf(stderr, "loadecho: seq: not done after %gs\n", timeout_s);
			break;
		}
		data = make_payload(i, n, size, &len);
		back = malloc(len + 1);
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (!back || fd < 0)
			die("setup: %s", strerror(errno));
		/* the payload fits the socket buffers: all out, then all back */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&ss, sslen) < 0 ||
		    send(fd, data, len, MSG_NOSIGNAL) != (ssize_t)len ||
		    shutdown(fd, SHUT_WR) < 0) {
			report("connection %u: %s", i, strerror(errno));
			goto next;
		}
		for (;;) {
			ssize_t r = recv(fd, back + got, got < len ? len - got : 1, 0);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				report("connection %u: %s", i, strerror(errno));
				goto next;
			}
			if (r == 0)
				break;
			got += (size_t)r;
			if (got > len) {
				same = false;
				break;
			}
		}
		if (same && got == len && !memcmp(back, data, len))
			ok++;
		else
			report("connection %u: sent %zu bytes, got %zu back, not the same", i, len,
			       got);
	next:
		close(fd);
		free(back);
		free(data);
	}
	printf("verified %u of %u\n", ok, n);
	return ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	int i = 1;

	t_start = now();
	if (i + 1 < argc && !strcmp(argv[i], "--timeout")) {
		timeout_s = (double)parse_num("--timeout", argv[i + 1], 1, 86400);
		i += 2;
	}
	if (i >= argc)
		die("usage: loadecho [--timeout S] echo|hold|seq ...");
	raise_nofile();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[i], "echo"))
		return cmd_echo(argc - i, argv + i);
	if (!strcmp(argv[i], "hold"))
		return cmd_hold(argc - i, argv + i);
	if (!strcmp(argv[i], "seq"))
		return cmd_seq(argc - i, argv + i);
	die("unknown command '%s' (echo, hold or seq)", argv[i]);
	return 2;
}
