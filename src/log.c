/* SPDX-License-Identifier: MIT */
/*
 * log.c - one-line messages on stderr, a file (-lf) or syslog (-ly)
 *
 * Without -d a message reads "vrelay: TEXT", the form the error catalogue
 * promises.  Once -d or -lf is given, messages carry a timestamp, the pid and
 * the level letter, as socat's do, because then they are read as a log of
 * several processes (fork mode) rather than as one error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* warnings are shown without -d: they tell of something done other than
 * asked (a socket option refused, a peer turned away) */
static int log_level = LOG_LVL_WARN;
static int log_fd = STDERR_FILENO;
static bool log_syslog;
static bool log_verbose_prefix;

/**
 * log_set_level() - how much to say, from the command line's -d count
 * @ndebug:	how many -d were given (-dN: N); negative for -d0, which
 *		keeps only the errors
 *
 * As socat 1.8 counts: warnings always, -d notices, -d -d info (every
 * step of opening an address), -d -d -d debug.
 */
void log_set_level(int ndebug)
{
	int level = ndebug < 0 ? LOG_LVL_ERR : LOG_LVL_WARN + ndebug;

	log_level = level > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : level;
	if (ndebug > 0)
		log_verbose_prefix = true;
}

int log_get_level(void)
{
	return log_level;
}

bool log_enabled(enum log_level level)
{
	return (int)level <= log_level;
}

int log_to_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	log_fd = fd;
	log_verbose_prefix = true;
	return 0;
}

int log_to_syslog(const char *facility)
{
	static const struct { const char *name; int value; } facilities[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	int fac = -1;

	if (!facility)
		fac = LOG_DAEMON;
	for (size_t i = 0; facility && i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (!strcmp(facility, facilities[i].name))
			fac = facilities[i].value;
	if (fac < 0)
		return -EINVAL;
	openlog("vrelay", LOG_PID | LOG_NDELAY, fac);
	log_syslog = true;
	return 0;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const char letters[] = "EWNID";
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
	char line[2048];
	size_t n = 0;
	int saved = errno;

	if (!log_enabled(level))
		return;
	if (log_syslog) {
		va_list copy;

		va_copy(copy, ap);
		vsyslog(prio[level], fmt, copy);
		va_end(copy);
		errno = saved;
		return;
	}
	if (log_verbose_prefix) {
		struct timeval tv;
		struct tm tm;

		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y/%m/%d %H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%06ld vrelay[%ld] %c ",
				      (long)tv.tv_usec, (long)getpid(), letters[level]);
	} else {
		n = (size_t)snprintf(line, sizeof(line), "vrelay: ");
	}
	int len = vsnprintf(line + n, sizeof(line) - n, fmt, ap);

	if (len < 0)
		len = 0;
	n += (size_t)len;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	log_raw(line, n);
	errno = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_raw(const void *buf, size_t len)
{
	/* a short write to a slow terminal must not cut a message in half;
	 * a log that cannot be written has no one to tell */
	(void)util_write_all(log_fd, buf, len);
}
