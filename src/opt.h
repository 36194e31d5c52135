/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_OPT_H
#define VRELAY_OPT_H

#include <stdbool.h>

#include "util.h"

enum opt_kind {
	OPT_FLAG,	/* "fork", "fork=1", "fork=0" */
	OPT_UINT,	/* range-checked integer */
	OPT_SIZE,	/* integer with optional k/m/g suffix */
	OPT_SECS,	/* seconds, decimals allowed */
	OPT_STRING,	/* non-empty text, checked by the type */
	OPT_MODE,	/* octal permission bits */
	OPT_CHOICE,	/* one of the words in @arg, "a|b|c"; num is its index */
};

/* The value may go on over the following comma-separated words, so that
 * "range=3-10,42" reads as one list. */
#define OPTF_LIST	(1u << 0)
/* Given again, the option adds a value instead of replacing the earlier
 * one ("forward=...,forward=..."); read them with opt_next(). */
#define OPTF_REPEAT	(1u << 1)
/* An OPT_CHOICE that may stand alone ("tls"): it means the first choice */
#define OPTF_BARE	(1u << 2)

/**
 * struct opt_desc - one option an address type takes
 * @name:	lower-case name as written on the command line
 * @kind:	how the value is parsed
 * @flags:	OPTF_*
 * @min, @max:	bounds for OPT_UINT/OPT_SIZE; @max is seconds for OPT_SECS
 * @arg:	placeholder for help ("N", "SECONDS", "PATH")
 * @help:	one line for "vrelay -h TYPE"
 *
 * Descriptors are compared by address: a type reads its options with
 * opt_get_*(spec, &opt_backlog, default).
 */
struct opt_desc {
	const char *name;
	enum opt_kind kind;
	unsigned flags;
	unsigned long long min, max;
	const char *arg;
	const char *help;
};

/**
 * struct opt_value - an option as given on one address
 * @desc:	which option
 * @text:	value as written (NULL for a bare flag)
 * @num:	parsed value for flags (0/1), numbers, sizes and modes
 * @secs:	parsed value for OPT_SECS
 */
struct opt_value {
	const struct opt_desc *desc;
	char *text;
	unsigned long long num;
	double secs;
};

int opt_parse_value(struct opt_value *val, struct errbuf *err);
void opt_print_help(const struct opt_desc *desc);

#endif
