/* SPDX-License-Identifier: MIT */
/*
 * tap.h - the few lines of TAP output every unit test prints: one
 * "ok N - what" per check, then tap_end()'s plan and summary.  Header-only:
 * each test is one program.
 */
#ifndef VRELAY_TEST_TAP_H
#define VRELAY_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int ntest, nfail;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ok(int cond, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	ntest++;
	if (!cond)
		nfail++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* a message may quote a protocol's text: keep each check on one line */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	printf("%sok %d - %s\n", cond ? "" : "not ", ntest, line);
}

/* The plan, the summary line, and the exit status */
static inline int tap_end(void)
{
	printf("1..%d\n# %d tests, %d failed\n", ntest, ntest, nfail);
	return nfail != 0;
}

#endif
