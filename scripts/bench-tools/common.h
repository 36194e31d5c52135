/* common.h - tiny shared helpers for the vrelay benchmark tools.
 *
 * Header-only on purpose: every tool is built from a single .c file
 * (cc -O2 tool.c -o tool) by scripts/bench.  Loopback only.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

static const char *g_prog = "bench-tool";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", g_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse a non-negative integer option value in [lo, hi]; die on junk. */
static inline long parse_num(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die("bad value for %s: '%s' (expected %ld..%ld)", opt, s, lo, hi);
	return v;
}

/* Parse a loopback-only target: IPv4/IPv6 literal that must be loopback. */
static inline socklen_t parse_loopback(const char *host, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			die("refusing non-loopback address %s", host);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			die("refusing non-loopback address %s", host);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		return sizeof(*s6);
	}
	die("not a numeric IPv4/IPv6 address: %s", host);
}

/* Raise RLIMIT_NOFILE so that at least `want` descriptors are usable.
 * Raises the hard limit too when permitted (CAP_SYS_RESOURCE).  When that is
 * not possible: with `required` set, die with a clear message; otherwise
 * raise the soft limit as far as the hard limit allows and return the
 * usable limit. */
static inline rlim_t raise_nofile(rlim_t want, int required)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return rl.rlim_cur;
	if (rl.rlim_max < want) {
		struct rlimit nrl = { want, want };
		if (setrlimit(RLIMIT_NOFILE, &nrl) == 0)
			return want;
		if (required)
			die("need %lu file descriptors but the hard limit is %lu and "
			    "cannot be raised here (needs CAP_SYS_RESOURCE)",
			    (unsigned long)want, (unsigned long)rl.rlim_max);
		want = rl.rlim_max;
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit(RLIMIT_NOFILE, %lu): %s", (unsigned long)want, strerror(errno));
	return want;
}

#endif /* BENCH_COMMON_H */
