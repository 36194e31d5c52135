/* SPDX-License-Identifier: MIT */
/*
 * util.c - range-checked number parsing and small fd helpers
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

volatile sig_atomic_t util_quit;

/**
 * err_set() - format a one-line message into @err
 * Return: -EINVAL, so that checks can "return err_set(...)".
 */
int err_set(struct errbuf *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/**
 * err_prefix() - put "@prefix: " before the message already in @err
 * Return: -EINVAL
 */
int err_prefix(struct errbuf *err, const char *prefix)
{
	char tmp[sizeof(err->msg)];
	size_t n = strlen(prefix);

	/* keep the end of an overlong message rather than overflow */
	if (n + 2 >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, prefix, n);
	memcpy(tmp + n, ": ", 2);
	strlcpy(tmp + n + 2, err->msg, sizeof(tmp) - n - 2);
	memcpy(err->msg, tmp, sizeof(tmp));
	return -EINVAL;
}

/**
 * util_parse_uint() - parse a decimal (or 0x hex) unsigned number, all of @s
 * Return: 0, -EINVAL if @s is not a number, -ERANGE if outside [@min, @max]
 */
int util_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		    unsigned long long *out)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts a sign and leading blanks; a port or count doesn't. */
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ' || *s == '\t')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/**
 * util_parse_size() - like util_parse_uint(), with an optional k/m/g suffix
 *		       (binary multiples: 64k = 65536)
 */
int util_parse_size(const char *s, unsigned long long min, unsigned long long max,
		    unsigned long long *out)
{
	char num[32];
	size_t len = s ? strlen(s) : 0;
	unsigned shift = 0;
	unsigned long long v;
	int rc;

	if (len == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	}
	if (shift)
		num[--len] = '\0';
	rc = util_parse_uint(num, 0, ~0ULL >> shift, &v);
	if (rc == -ERANGE)
		return rc;
	if (rc)
		return rc;
	v <<= shift;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/**
 * util_parse_secs() - parse a duration in seconds, decimals allowed ("0.5")
 */
int util_parse_secs(const char *s, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || isnan(v))
		return -EINVAL;
	if (v < 0 || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/**
 * util_check_number() - util_parse_uint() with the message users see
 * @what:	name of the parameter or option, e.g. "port"
 */
int util_check_number(struct errbuf *err, const char *what, const char *s,
		      unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	int rc = util_parse_uint(s, min, max, out);

	if (rc == -ERANGE)
		return err_set(err, "%s: out of range (%llu..%llu)", what, min, max);
	if (rc)
		return err_set(err, "%s: invalid number \"%s\"", what, s);
	return 0;
}

double util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int util_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

int util_set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/**
 * util_writev_all() - write all of @iov to a blocking @fd: on after a short
 *		       write (a full disk, a signal) or EINTR
 * Return: 0, or a negative errno (@iov is used up as it goes)
 */
int util_writev_all(int fd, struct iovec *iov, int iovcnt)
{
	ssize_t w = 0;

	for (;;) {
		/* past what is written, and past empty parts: nothing left to
		 * write is no write at all, not a write of 0 bytes */
		while (iovcnt > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt == 0)
			return 0;
		iov->iov_base = (char *)iov->iov_base + w;
		iov->iov_len -= (size_t)w;
		w = writev(fd, iov, iovcnt);
		if (w < 0 && errno == EINTR)
			w = 0;
		else if (w < 0)
			return -errno;
		else if (w == 0)
			return -EIO;
	}
}

/* util_writev_all() of one buffer */
int util_write_all(int fd, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };

	return util_writev_all(fd, &iov, 1);
}

bool util_is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* splice(2) needs a pipe on one end; we put one between two sockets or
 * fifos.  Terminals and regular files take the buffered path. */
bool util_is_splice_capable(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode));
}

/* Thousands of relayed connections need thousands of fds: take what the
 * hard limit allows instead of failing at the soft 1024. */
void util_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/**
 * util_wait_input() - block until @fd is readable, or SIGTERM/SIGINT
 *
 * The two are let in only inside ppoll(): one that came before (while the
 * other address was being opened, say) is seen in util_quit instead of
 * being lost ahead of a blocking accept() or recvfrom().
 * Return: 0, -EINTR, or another negative errno
 */
int util_wait_input(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	sigset_t stop, old;
	int rc = 0;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	if (util_quit)
		rc = -EINTR;
	else if (ppoll(&pfd, 1, NULL, &old) < 0)
		rc = -errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
