/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_UTIL_H
#define VRELAY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Error text for option and parameter checks: one line, no prefix. */
struct errbuf {
	char msg[512];
};
int err_set(struct errbuf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int err_prefix(struct errbuf *err, const char *prefix);

int util_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		    unsigned long long *out);
int util_parse_size(const char *s, unsigned long long min, unsigned long long max,
		    unsigned long long *out);
int util_parse_secs(const char *s, double max, double *out);
int util_check_number(struct errbuf *err, const char *what, const char *s,
		      unsigned long long min, unsigned long long max,
		      unsigned long long *out);

/* Set by the SIGTERM/SIGINT handler: blocking waits (connect retries,
 * accept) give up when they see it. */
extern volatile sig_atomic_t util_quit;
int util_wait_input(int fd);

double util_now(void);
int util_set_nonblock(int fd, bool on);
int util_set_cloexec(int fd);
struct iovec;
int util_writev_all(int fd, struct iovec *iov, int iovcnt);
int util_write_all(int fd, const void *buf, size_t len);
bool util_is_socket(int fd);
bool util_is_splice_capable(int fd);
void util_raise_nofile(void);

#ifndef HAVE_STRLCPY
size_t strlcpy(char *dst, const char *src, size_t size);
#endif

#endif
