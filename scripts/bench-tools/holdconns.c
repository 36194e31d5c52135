/* holdconns - open N verified connections and hold them idle (loopback only).
 *
 *   holdconns -p PORT -n N [-a ADDR] [-w WINDOW] [-T SETUP_SECS] [-H HOLD_SECS]
 *
 * Opens N TCP connections to ADDR:PORT, at most WINDOW (default 32) in the
 * connect/verify phase at once.  Each is verified by a 1-byte echo.  When all
 * N are verified it prints
 *   READY n=N secs=S
 * on stdout (flushed) and keeps every connection open and idle until SIGTERM
 * or SIGINT arrives or HOLD_SECS (default 600) elapse; then it closes
 * everything and exits 0.
 * If the setup phase does not complete within SETUP_SECS (default 180) or a
 * connection fails, it prints
 *   FAILED ok=K n=N reason=...
 * and exits 1 (after closing everything).
 */
#include "common.h"

#include <fcntl.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

enum { ST_CONNECTING = 1, ST_WAITECHO = 2, ST_DONE = 3 };

struct slot {
	int fd;
	unsigned char state;
	unsigned char byte;
	double started;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: holdconns -p PORT -n N [-a ADDR] [-w WINDOW] "
		"[-T SETUP_SECS] [-H HOLD_SECS]\n");
	exit(2);
}

static struct slot *g_slots;
static long g_nslots;

static void close_all(void)
{
	long i;
	for (i = 0; i < g_nslots; i++)
		if (g_slots[i].fd >= 0) {
			close(g_slots[i].fd);
			g_slots[i].fd = -1;
		}
}

static void fail(long ok, long n, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
static void fail(long ok, long n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "holdconns: %s (after %ld of %ld connections verified)\n", msg, ok, n);
	printf("FAILED ok=%ld n=%ld reason=%s\n", ok, n, msg);
	fflush(stdout);
	close_all();
	exit(1);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	int port = -1, opt, ep, one = 1;
	long n = -1, window = 32, setup_secs = 180, hold_secs = 600;
	long launched = 0, inflight = 0, ok = 0;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct epoll_event evs[256];
	struct sigaction sa;
	double t0, deadline;

	g_prog = "holdconns";
	while ((opt = getopt(argc, argv, "a:p:n:w:T:H:")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = (int)parse_num("-p", optarg, 1, 65535); break;
		case 'n': n = parse_num("-n", optarg, 1, 500000); break;
		case 'w': window = parse_num("-w", optarg, 1, 4096); break;
		case 'T': setup_secs = parse_num("-T", optarg, 1, 3600); break;
		case 'H': hold_secs = parse_num("-H", optarg, 1, 86400); break;
		default: usage();
		}
	}
	if (port < 0 || n < 0 || optind != argc)
		usage();

	raise_nofile((rlim_t)n + 64, 1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sl = parse_loopback(addr, port, &ss);
	g_slots = calloc((size_t)n, sizeof(*g_slots));
	if (g_slots == NULL)
		die("out of memory for %ld slots", n);
	for (g_nslots = 0; g_nslots < n; g_nslots++)
		g_slots[g_nslots].fd = -1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));

	t0 = now_s();
	deadline = t0 + (double)setup_secs;
	while (ok < n) {
		int i, k;

		if (g_stop)
			fail(ok, n, "interrupted during setup");
		if (now_s() > deadline)
			fail(ok, n, "setup timed out after %ld s (%ld in flight)", setup_secs, inflight);
		while (inflight < window && launched < n) {
			struct slot *s = &g_slots[launched];
			struct epoll_event e;
			int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

			if (fd < 0)
				fail(ok, n, "socket: %s", strerror(errno));
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			s->fd = fd;
			s->byte = (unsigned char)('A' + launched % 26);
			s->started = now_s();
			if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
				fail(ok, n, "connect #%ld: %s", launched, strerror(errno));
			s->state = ST_CONNECTING;
			e.events = EPOLLOUT;
			e.data.u64 = (uint64_t)launched;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
				fail(ok, n, "epoll_ctl: %s", strerror(errno));
			launched++;
			inflight++;
		}
		k = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), 200);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			fail(ok, n, "epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < k; i++) {
			long idx = (long)evs[i].data.u64;
			struct slot *s = &g_slots[idx];

			if (s->state == ST_CONNECTING) {
				int err = 0;
				socklen_t el = sizeof(err);
				struct epoll_event e;
				ssize_t w;

				if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
					err = errno;
				if (err)
					fail(ok, n, "connect #%ld: %s", idx, strerror(err));
				w = send(s->fd, &s->byte, 1, MSG_NOSIGNAL);
				if (w != 1)
					fail(ok, n, "write #%ld: %s", idx, w < 0 ? strerror(errno) : "short write");
				s->state = ST_WAITECHO;
				e.events = EPOLLIN | EPOLLRDHUP;
				e.data.u64 = (uint64_t)idx;
				if (epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e) < 0)
					fail(ok, n, "epoll_ctl: %s", strerror(errno));
			} else if (s->state == ST_WAITECHO) {
				unsigned char b;
				ssize_t r = recv(s->fd, &b, 1, 0);

				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				if (r < 0)
					fail(ok, n, "read #%ld: %s", idx, strerror(errno));
				if (r == 0)
					fail(ok, n, "read #%ld: connection closed before echo "
					     "(relay out of descriptors/processes?)", idx);
				if (b != s->byte)
					fail(ok, n, "read #%ld: wrong byte echoed", idx);
				s->state = ST_DONE;
				epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
				inflight--;
				ok++;
			}
		}
	}
	printf("READY n=%ld secs=%.3f\n", ok, now_s() - t0);
	fflush(stdout);
	fprintf(stderr, "holdconns: %ld connections verified in %.3f s, holding (max %ld s)\n",
		ok, now_s() - t0, hold_secs);

	/* Hold: only wake up for the signal or the bounded hold time. */
	deadline = now_s() + (double)hold_secs;
	while (!g_stop && now_s() < deadline)
		poll(NULL, 0, 200);
	close_all();
	return 0;
}
