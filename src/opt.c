/* SPDX-License-Identifier: MIT */
/*
 * opt.c - parsing and help for typed address options
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opt.h"

static int parse_flag(struct opt_value *val, struct errbuf *err)
{
	static const char *const on[] = { "1", "yes", "true", "on" };
	static const char *const off[] = { "0", "no", "false", "off" };

	if (!val->text) {
		val->num = 1;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(on); i++) {
		if (!strcasecmp(val->text, on[i])) {
			val->num = 1;
			return 0;
		}
		if (!strcasecmp(val->text, off[i])) {
			val->num = 0;
			return 0;
		}
	}
	return err_set(err, "%s: expects no value or 0/1, got \"%s\"",
		       val->desc->name, val->text);
}

/**
 * opt_parse_value() - parse and range-check @val->text by its descriptor
 * Return: 0, or -EINVAL with the message in @err
 */
int opt_parse_value(struct opt_value *val, struct errbuf *err)
{
	const struct opt_desc *d = val->desc;
	int rc;

	if (d->kind == OPT_FLAG)
		return parse_flag(val, err);
	if (!val->text && d->kind == OPT_CHOICE && (d->flags & OPTF_BARE)) {
		val->num = 0;
		return 0;
	}
	if (!val->text || !*val->text)
		return err_set(err, "%s: missing value (%s=%s)", d->name, d->name, d->arg);

	switch (d->kind) {
	case OPT_UINT:
		return util_check_number(err, d->name, val->text, d->min, d->max, &val->num);
	case OPT_SIZE:
		rc = util_parse_size(val->text, d->min, d->max, &val->num);
		if (rc == -ERANGE)
			return err_set(err, "%s: out of range (%llu..%llu)", d->name, d->min, d->max);
		if (rc)
			return err_set(err, "%s: invalid size \"%s\"", d->name, val->text);
		return 0;
	case OPT_SECS:
		rc = util_parse_secs(val->text, (double)d->max, &val->secs);
		if (rc == -ERANGE)
			return err_set(err, "%s: out of range (0..%llu seconds)", d->name, d->max);
		if (rc)
			return err_set(err, "%s: invalid duration \"%s\"", d->name, val->text);
		return 0;
	case OPT_CHOICE: {
		size_t n = strlen(val->text), i = 0;

		for (const char *w = d->arg; *w; i++) {
			size_t len = strcspn(w, "|");

			if (len == n && !strncasecmp(w, val->text, n)) {
				val->num = i;
				return 0;
			}
			w += len;
			if (*w)
				w++;
		}
		return err_set(err, "%s: unknown value \"%s\" (one of %s)", d->name, val->text,
			       d->arg);
	}
	case OPT_MODE: {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(val->text, &end, 8);
		if (*end || errno || val->text[0] == '-')
			return err_set(err, "%s: invalid octal mode \"%s\"", d->name, val->text);
		if (m > 07777)
			return err_set(err, "%s: out of range (0..07777)", d->name);
		val->num = m;
		return 0;
	}
	case OPT_STRING:
	case OPT_FLAG:
		break;
	}
	return 0;
}

void opt_print_help(const struct opt_desc *d)
{
	char head[64];

	if (d->kind == OPT_FLAG)
		snprintf(head, sizeof(head), "%s", d->name);
	else if (d->flags & OPTF_BARE)
		snprintf(head, sizeof(head), "%s[=%s]", d->name, d->arg);
	else
		snprintf(head, sizeof(head), "%s=%s", d->name, d->arg);
	printf("  %-24s %s\n", head, d->help);
}
