/* connrate - sequential connection-rate client (loopback only).
 *
 *   connrate -p PORT [-a ADDR] [-t SECS] [-n MAXCOUNT] [-T TIMEOUT_MS] [-e MAXERRS]
 *
 * Repeatedly: connect, write 1 byte, read 1 byte back (must match), close.
 * One connection at a time.  Stops after SECS seconds (default 5) or
 * MAXCOUNT successful round trips, whichever comes first; aborts after
 * MAXERRS failed attempts (default 20).  Every step has a timeout (default
 * 2000 ms) so the run is bounded.  Prints a human line on stderr and a
 * machine line on stdout:
 *   RESULT conns=N errors=E secs=S rate=R p50_us=.. p90_us=.. p99_us=..
 * Exit status 0 when at least one round trip succeeded and MAXERRS was not
 * reached, 1 otherwise.
 */
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <netinet/tcp.h>

#define MAX_SAMPLES 2000000

static void usage(void)
{
	fprintf(stderr, "usage: connrate -p PORT [-a ADDR] [-t SECS] [-n MAXCOUNT] "
		"[-T TIMEOUT_MS] [-e MAXERRS]\n");
	exit(2);
}

/* Wait for `ev` on fd until `deadline` (monotonic seconds). 0 ok, -1 timeout/error. */
static int wait_fd(int fd, short ev, double deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = ev };
		double left = deadline - now_s();
		int r;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r > 0)
			return 0;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

/* One connect / 1-byte echo / close.  Returns 0 on success, else -1 with
 * *what set to the failing step. */
static int one_trip(const struct sockaddr_storage *ss, socklen_t sl, int timeout_ms,
		    unsigned char seq, const char **what)
{
	double deadline = now_s() + timeout_ms / 1000.0;
	int fd, one = 1, err = 0, saved;
	socklen_t el = sizeof(err);
	unsigned char b = seq, rb;
	ssize_t n;

	*what = "socket";
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*what = "connect";
	if (connect(fd, (const struct sockaddr *)ss, sl) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		if (wait_fd(fd, POLLOUT, deadline) < 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			goto fail;
		if (err) {
			errno = err;
			goto fail;
		}
	}
	*what = "write";
	for (;;) {
		n = send(fd, &b, 1, MSG_NOSIGNAL);
		if (n == 1)
			break;
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) < 0)
				goto fail;
			continue;
		}
		goto fail;
	}
	*what = "read";
	for (;;) {
		n = recv(fd, &rb, 1, 0);
		if (n == 1)
			break;
		if (n == 0) {
			*what = "read (EOF before echo)";
			errno = ECONNRESET;
			goto fail;
		}
		if (errno == EAGAIN || errno == EINTR) {
			if (wait_fd(fd, POLLIN, deadline) < 0)
				goto fail;
			continue;
		}
		goto fail;
	}
	if (rb != b) {
		*what = "read (wrong byte echoed)";
		errno = EPROTO;
		goto fail;
	}
	close(fd);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int cmp_u32(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	int port = -1, opt, timeout_ms = 2000;
	long secs = 5, maxcount = 100000000L, maxerrs = 20, ok = 0, errs = 0;
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned *lat;
	size_t nlat = 0;
	double t0, t_end, el;

	g_prog = "connrate";
	while ((opt = getopt(argc, argv, "a:p:t:n:T:e:")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = (int)parse_num("-p", optarg, 1, 65535); break;
		case 't': secs = parse_num("-t", optarg, 1, 3600); break;
		case 'n': maxcount = parse_num("-n", optarg, 1, 1000000000L); break;
		case 'T': timeout_ms = (int)parse_num("-T", optarg, 10, 600000); break;
		case 'e': maxerrs = parse_num("-e", optarg, 1, 1000000); break;
		default: usage();
		}
	}
	if (port < 0 || optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	sl = parse_loopback(addr, port, &ss);
	lat = malloc(sizeof(*lat) * MAX_SAMPLES);
	if (lat == NULL)
		die("out of memory");

	t0 = now_s();
	t_end = t0 + (double)secs;
	while (ok < maxcount && errs < maxerrs) {
		double a = now_s(), d;
		const char *what = "";
		if (a >= t_end)
			break;
		if (one_trip(&ss, sl, timeout_ms, (unsigned char)ok, &what) < 0) {
			errs++;
			fprintf(stderr, "connrate: %s:%d: %s failed: %s (error %ld of max %ld)\n",
				addr, port, what, strerror(errno), errs, maxerrs);
			continue;
		}
		d = (now_s() - a) * 1e6;
		if (nlat < MAX_SAMPLES)
			lat[nlat++] = d > 4e9 ? 4000000000u : (unsigned)d;
		ok++;
	}
	el = now_s() - t0;
	if (nlat)
		qsort(lat, nlat, sizeof(*lat), cmp_u32);
#define PCT(p) (nlat ? lat[(size_t)((double)(nlat - 1) * (p))] : 0u)
	fprintf(stderr, "connrate: %ld round trips, %ld errors in %.3f s = %.1f conn/s "
		"(latency p50 %u us, p99 %u us)\n", ok, errs, el, ok / el, PCT(0.5), PCT(0.99));
	printf("RESULT conns=%ld errors=%ld secs=%.3f rate=%.1f p50_us=%u p90_us=%u p99_us=%u\n",
	       ok, errs, el, ok / el, PCT(0.5), PCT(0.9), PCT(0.99));
	free(lat);
	return (ok > 0 && errs < maxerrs) ? 0 : 1;
}
