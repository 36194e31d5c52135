/* echod - epoll echo server for the vrelay benchmark (loopback only).
 *
 *   echod [-a ADDR] [-p PORT] [-n MAXCONNS]
 *
 * Binds ADDR:PORT (default 127.0.0.1:0 = kernel-chosen port), then prints
 *   listening on ADDR:PORT
 * on stdout (flushed) once accept()able, so a script can read the port.
 * Every byte received is sent back.  Non-blocking sockets, level-triggered
 * epoll; a connection whose peer is slow to read stops being read until
 * its pending bytes are flushed.  Exits 0 on SIGINT/SIGTERM.
 */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#define BUFSZ 4096

struct conn {
	int fd;
	int eof;          /* peer sent FIN: close once pending bytes are out */
	size_t off, len;  /* pending bytes buf[off..len) */
	char buf[BUFSZ];
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: echod [-a ADDR] [-p PORT] [-n MAXCONNS]\n");
	exit(2);
}

static void close_conn(int ep, struct conn *c, long *nconns)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	(*nconns)--;
}

static int set_events(int ep, struct conn *c, unsigned ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* Try to flush pending bytes.  Returns -1 on fatal error, 0 otherwise. */
static int flush_conn(struct conn *c)
{
	while (c->off < c->len) {
		ssize_t w = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		c->off += (size_t)w;
	}
	c->off = c->len = 0;
	return 0;
}

/* Handle one readiness event.  Returns 1 to close the connection. */
static int serve(int ep, struct conn *c, unsigned events)
{
	int rounds;

	if (events & EPOLLOUT) {
		if (flush_conn(c) < 0)
			return 1;
		if (c->len == 0) {
			if (c->eof)
				return 1;
			if (set_events(ep, c, EPOLLIN | EPOLLRDHUP) < 0)
				return 1;
		}
		return 0;
	}
	if (c->len) /* still flushing: only errors matter here */
		return (events & (EPOLLHUP | EPOLLERR)) ? 1 : 0;
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return 0;
	/* Bounded: at most 16 buffers per wakeup, to stay fair to others. */
	for (rounds = 0; rounds < 16; rounds++) {
		ssize_t r = recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return 1;
		}
		if (r == 0) {
			c->eof = 1;
			return 1; /* nothing pending here: pending implies EPOLLOUT mode */
		}
		c->off = 0;
		c->len = (size_t)r;
		if (flush_conn(c) < 0)
			return 1;
		if (c->len) { /* peer not reading: wait for EPOLLOUT */
			if (set_events(ep, c, EPOLLOUT) < 0)
				return 1;
			return 0;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	int port = 0, opt, lfd, ep, one = 1;
	long maxconns = 100000, nconns = 0;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct epoll_event lev, evs[256];
	struct sigaction sa;
	char host[INET6_ADDRSTRLEN];

	g_prog = "echod";
	while ((opt = getopt(argc, argv, "a:p:n:")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = (int)parse_num("-p", optarg, 0, 65535); break;
		case 'n': maxconns = parse_num("-n", optarg, 1, 1000000); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();

	raise_nofile((rlim_t)maxconns + 64, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sl = parse_loopback(addr, port, &ss);
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, sl) < 0)
		die("bind %s:%d: %s", addr, port, strerror(errno));
	if (listen(lfd, 4096) < 0)
		die("listen: %s", strerror(errno));
	sl = sizeof(ss);
	if (getsockname(lfd, (struct sockaddr *)&ss, &sl) < 0)
		die("getsockname: %s", strerror(errno));
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	lev.events = EPOLLIN;
	lev.data.ptr = NULL; /* NULL marks the listener */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0)
		die("epoll_ctl(listener): %s", strerror(errno));

	printf("listening on %s:%d\n", host, port);
	fflush(stdout);

	while (!g_stop) {
		int i, n = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), 1000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == NULL) {
				int k;
				for (k = 0; k < 256; k++) { /* bounded accept burst */
					int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					struct epoll_event e;
					if (fd < 0) {
						if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
							break;
						if (errno == EMFILE || errno == ENFILE) {
							fprintf(stderr, "echod: accept: %s (%ld open)\n",
								strerror(errno), nconns);
							break;
						}
						if (errno == ECONNABORTED)
							continue;
						die("accept4: %s", strerror(errno));
					}
					if (nconns >= maxconns) {
						close(fd);
						continue;
					}
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					c = malloc(sizeof(*c));
					if (c == NULL) {
						close(fd);
						fprintf(stderr, "echod: out of memory\n");
						break;
					}
					c->fd = fd;
					c->eof = 0;
					c->off = c->len = 0;
					e.events = EPOLLIN | EPOLLRDHUP;
					e.data.ptr = c;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) {
						close(fd);
						free(c);
						continue;
					}
					nconns++;
				}
				continue;
			}
			if (serve(ep, c, evs[i].events))
				close_conn(ep, c, &nconns);
		}
	}
	return 0;
}
