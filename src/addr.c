/* SPDX-License-Identifier: MIT */
/*
 * addr.c - socat's address grammar: TYPE:param:param,option,option=value
 *
 * DOC: Grammar
 *
 * An address is a type name, then parameters separated by ':', then options
 * separated by ','.  Names of types and options are case-insensitive.  '-'
 * is STDIO, a bare number is FD:n, and "A!!B" reads from A and writes to B.
 * Inside a word, '...' and "..." group characters (the quotes go away) and a
 * backslash takes the next character literally; "[...]" keeps an IPv6
 * address's colons together.  A type flagged ADDR_REST (EXEC, SYSTEM) gets
 * its last parameter verbatim up to the first unquoted ',' - colons, quotes
 * and all - because that text is a command line with a grammar of its own.
 *
 * Everything is checked here and in the type's prepare() before anything
 * is opened, so that a usage error never leaves half a relay behind.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "frame.h"
#include "log.h"
#include "sock.h"
#include "tls.h"

const struct opt_desc opt_ignoreeof = {
	"ignoreeof", OPT_FLAG, 0, 0, 0, NULL,
	"at end of input keep waiting for more (like tail -f)",
};

const struct opt_desc *const addr_common_opts[] = {
	&opt_ignoreeof, &opt_frames, &opt_post, &opt_accept_post, NULL,
};

/**
 * read_word() - copy one word of @*pp into @out, stopping at a character
 *		 of @stops outside quotes and brackets
 * @verbatim:	keep quotes and backslashes in @out (for ADDR_REST)
 * Return: the stop character, '\0' at the end, or -1 (message in @err)
 */
static int read_word(const char **pp, const char *stops, bool verbatim, char *out,
		     struct errbuf *err)
{
	const char *p = *pp;
	bool sq = false, dq = false;
	int bracket = 0;
	size_t n = 0;

	for (; *p; p++) {
		char c = *p;

		if (!sq && !dq && !bracket && strchr(stops, c))
			break;
		if (c == '\\' && !sq) {
			if (!p[1])
				return err_set(err, "trailing backslash"), -1;
			if (verbatim)
				out[n++] = c;
			out[n++] = *++p;
			continue;
		}
		if ((c == '\'' && !dq) || (c == '"' && !sq)) {
			if (c == '\'')
				sq = !sq;
			else
				dq = !dq;
			if (verbatim)
				out[n++] = c;
			continue;
		}
		if (!sq && !dq) {
			if (c == '[')
				bracket++;
			else if (c == ']' && bracket)
				bracket--;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	if (sq || dq)
		return err_set(err, "unterminated %s quote", sq ? "single" : "double"), -1;
	if (bracket)
		return err_set(err, "unterminated '['"), -1;
	*pp = p;
	return (unsigned char)*p;
}

static const struct opt_desc *find_option(const struct addr_type *type, const char *name)
{
	for (size_t l = 0; l < ADDR_MAX_OPT_LISTS && type->opts[l]; l++)
		for (const struct opt_desc *const *o = type->opts[l]; *o; o++)
			if (!strcasecmp((*o)->name, name))
				return *o;
	for (const struct opt_desc *const *o = addr_common_opts; *o; o++)
		if (!strcasecmp((*o)->name, name))
			return *o;
#ifdef WITH_OPENSSL
	if (!(type->flags & (ADDR_FRAMES | ADDR_OWN_LAYER)))
		for (const struct opt_desc *const *o = tls_opts; *o; o++)
			if (!strcasecmp((*o)->name, name))
				return *o;
#endif
	return NULL;
}

/* Is @name an option of any type?  Then it is no continuation of a list */
static bool known_option_name(const char *name)
{
	for (const struct addr_type *const *t = addr_types; *t; t++)
		if (find_option(*t, name))
			return true;
	return false;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int add_option(struct addr_spec *spec, char *word, struct errbuf *err)
{
	struct opt_value *prev = spec->nopts ? &spec->opts[spec->nopts - 1] : NULL;
	char *eq = strchr(word, '=');
	const struct opt_desc *desc;

	if (!*word)
		return err_set(err, "empty option (two commas, or a comma at the end)");
	if (eq)
		*eq = '\0';
	desc = find_option(spec->type, word);
	if (eq)
		*eq = '=';
	if (!desc && prev && (prev->desc->flags & OPTF_LIST) && prev->text &&
	    !(!eq && known_option_name(word))) {
		/* "range=3-10,42": the 42 belongs to the list before it */
		size_t a = strlen(prev->text), b = strlen(word);
		char *joined = realloc(prev->text, a + b + 2);

		if (!joined)
			return err_set(err, "out of memory");
		joined[a] = ',';
		memcpy(joined + a + 1, word, b + 1);
		prev->text = joined;
		return 0;
	}
	if (!desc) {
		if (eq)
			*eq = '\0';
		return err_set(err, "unknown option \"%s\" for %s (see vrelay -h %s)",
			       word, spec->type->name, spec->type->name);
	}
	/* socat lets a later option override an earlier one; so do we */
	for (unsigned i = 0; i < spec->nopts && !(desc->flags & OPTF_REPEAT); i++) {
		if (spec->opts[i].desc == desc) {
			free(spec->opts[i].text);
			spec->opts[i] = spec->opts[--spec->nopts];
			break;
		}
	}
	if (spec->nopts == ADDR_MAX_OPTS)
		return err_set(err, "too many options (at most %d)", ADDR_MAX_OPTS);
	spec->opts[spec->nopts].desc = desc;
	spec->opts[spec->nopts].text = eq ? strdup(eq + 1) : NULL;
	spec->nopts++;
	return 0;
}

/* One address, or (@half) one side of "A!!B", into @spec */
static int parse_single(struct addr_spec *spec, const char *text, bool half,
			struct errbuf *err)
{
	size_t cap = strlen(text) + 1;
	char *word = malloc(cap);
	const char *p = text;
	unsigned given = 0;
	int stop;
	int rc = -EINVAL;

	if (!word)
		return err_set(err, "out of memory");
	stop = read_word(&p, ":,", false, word, err);
	if (stop < 0)
		goto out;
	if (!*word) {
		err_set(err, "missing address type");
		goto out;
	}
	spec->type = addr_type_find(word);
	if (!spec->type && all_digits(word) && stop != ':') {
		/* socat reads a bare number as FD:n */
		spec->type = addr_type_find("FD");
		spec->params[spec->nparams++] = strdup(word);
		given = 1;
	}
	if (!spec->type) {
		err_set(err, "unknown address type \"%s\" (vrelay -h lists them)", word);
		goto out;
	}
	while (stop == ':') {
		bool rest = (spec->type->flags & ADDR_REST) && given + 1 == spec->type->nparams;

		p++;
		stop = read_word(&p, rest ? "," : ":,", rest, word, err);
		if (stop < 0)
			goto out;
		if (given < ADDR_MAX_PARAMS && given < spec->type->nparams)
			spec->params[spec->nparams++] = strdup(word);
		given++;
	}
	if (given != spec->type->nparams) {
		if (spec->type->nparams == 0)
			err_set(err, "wrong number of parameters (%u given, %s takes none)",
				given, spec->type->name);
		else
			err_set(err, "wrong number of parameters (%u given, %s takes %u: %s:%s)",
				given, spec->type->name, spec->type->nparams,
				spec->type->name, spec->type->params);
		goto out;
	}
	while (stop == ',') {
		p++;
		stop = read_word(&p, ",", false, word, err);
		if (stop < 0 || add_option(spec, word, err) < 0)
			goto out;
	}
	if (spec->type->flags & ADDR_STUB) {
		err_set(err, "%s: %s", spec->type->name, spec->type->unavailable);
		goto out;
	}
	for (unsigned i = 0; i < spec->nopts; i++)
		if (opt_parse_value(&spec->opts[i], err) < 0)
			goto out;
	if (half && (spec->type->flags & ADDR_OWN_LAYER)) {
		err_set(err, "%s cannot be half of a dual address (A!!B): it reads and writes "
			"one place", spec->type->name);
		goto out;
	}
	if ((spec->type->flags & (ADDR_FRAMES | ADDR_OWN_LAYER)) &&
	    (opt_find(spec, &opt_frames) || opt_find(spec, &opt_post) ||
	     opt_find(spec, &opt_accept_post))) {
		err_set(err, "%s carries %s: frames=, post= and accept-post are for other "
			"streams", spec->type->name, spec->type->flags & ADDR_FRAMES ?
			"one frame per message" : "lines of text");
		goto out;
	}
	if ((opt_find(spec, &opt_post) || opt_find(spec, &opt_accept_post)) &&
	    opt_find(spec, &opt_frames) && opt_find(spec, &opt_frames)->num == FRAME_CODEC_RAW) {
		err_set(err, "post= and accept-post need frames=qemu or frames=hyperkit");
		goto out;
	}
	rc = spec->type->prepare ? spec->type->prepare(spec, err) : 0;
	if (rc == 0)
		rc = tls_prepare(spec, err);
out:
	free(word);
	return rc;
}

/* Where "A!!B" splits, outside quotes; NULL if it is no dual address. */
static const char *find_dual(const char *text)
{
	bool sq = false, dq = false;

	for (const char *p = text; *p; p++) {
		if (*p == '\\' && !sq && p[1])
			p++;
		else if (*p == '\'' && !dq)
			sq = !sq;
		else if (*p == '"' && !sq)
			dq = !dq;
		else if (!sq && !dq && p[0] == '!' && p[1] == '!')
			return p;
	}
	return NULL;
}

/**
 * addr_parse() - parse and check one address argument
 * @text:	the argument as given (kept for messages, not copied)
 * Return: the spec, or NULL with a one-line message in @err
 */
struct addr_spec *addr_parse(const char *text, struct errbuf *err)
{
	struct addr_spec *spec = calloc(1, sizeof(*spec));
	const char *bang = find_dual(text);

	if (!spec) {
		err_set(err, "out of memory");
		return NULL;
	}
	spec->text = text;
	if (bang) {
		char *left = strndup(text, (size_t)(bang - text));

		spec->dual = calloc(1, sizeof(*spec->dual));
		if (!left || !spec->dual) {
			free(left);
			err_set(err, "out of memory");
			goto fail;
		}
		spec->dual->text = text;
		int rc = parse_single(spec, left, true, err);

		free(left);
		if (rc < 0 || parse_single(spec->dual, bang + 2, true, err) < 0)
			goto fail;
		/* parse_single() sets type when it succeeds; the analyzer does not
		 * see that err_set() (util.c) returns < 0 */
		/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
		if (spec->type->flags & ADDR_WRONLY) {
			err_set(err, "%s cannot be read from, so it cannot be the left of \"!!\"",
				spec->type->name);
			goto fail;
		}
		if (spec->dual->type->flags & ADDR_RDONLY) {
			err_set(err, "%s cannot be written to, so it cannot be the right of \"!!\"",
				spec->dual->type->name);
			goto fail;
		}
		if ((spec->type->flags | spec->dual->type->flags) & ADDR_LISTEN) {
			err_set(err, "a listening address cannot be half of a dual address");
			goto fail;
		}
		if (spec->tls || spec->dual->tls) {
			err_set(err, "tls on half of a dual address (A!!B): TLS needs one stream");
			goto fail;
		}
		return spec;
	}
	if (parse_single(spec, text, false, err) < 0)
		goto fail;
	return spec;
fail:
	addr_free(spec);
	return NULL;
}

/* NOLINTNEXTLINE(misc-no-recursion): once, for the right half of "A!!B" */
void addr_free(struct addr_spec *spec)
{
	if (!spec)
		return;
	if (spec->type && spec->type->cleanup)
		spec->type->cleanup(spec);
	tls_cleanup(spec);
	for (unsigned i = 0; i < spec->nparams; i++)
		free(spec->params[i]);
	for (unsigned i = 0; i < spec->nopts; i++)
		free(spec->opts[i].text);
	addr_free(spec->dual);
	free(spec);
}

bool addr_is_listener(const struct addr_spec *spec)
{
	return spec->type->flags & ADDR_LISTEN;
}

/**
 * addr_open() - open an address for the pump
 *
 * A listener opened this way accepts one permitted peer and closes its
 * listening socket, as socat does without fork.  For "A!!B" both halves
 * are opened and the endpoint reads from A and writes to B.
 * Return: 0, or a negative errno after the failure was logged
 */
int addr_open(struct addr_spec *spec, const struct peer_info *peer, struct endpoint *ep)
{
	struct endpoint wr;
	int rc;

	endpoint_init(ep, spec);
	if (!spec->dual) {
		if (addr_is_listener(spec))
			return sock_listen_accept_once(spec, ep);
		return spec->type->open(spec, peer, ep);
	}
	rc = spec->type->open(spec, peer, ep);
	if (rc < 0)
		return rc;
	endpoint_init(&wr, spec->dual);
	rc = spec->dual->type->open(spec->dual, peer, &wr);
	if (rc < 0) {
		endpoint_close(ep);
		return rc;
	}
	/* Keep A's read side and B's write side; the other halves stay open
	 * (closing a socket's unused half would tell its peer too much) and
	 * are closed with the endpoint. */
	ep->extra_fd[0] = ep->wfd != ep->rfd ? ep->wfd : -1;
	ep->extra_fd[1] = wr.rfd != wr.wfd ? wr.rfd : -1;
	ep->wfd = wr.wfd;
	ep->pid[1] = wr.pid[0];
	ep->flags = (ep->flags & ~EP_SOCKET) | (wr.flags & EP_SOCKET);
	if (ep->rfd == ep->wfd)
		ep->flags |= EP_SOCKET;
	return 0;
}

/* ---- option access --------------------------------------------------- */

const struct opt_value *opt_find(const struct addr_spec *spec, const struct opt_desc *desc)
{
	for (unsigned i = 0; i < spec->nopts; i++)
		if (spec->opts[i].desc == desc)
			return &spec->opts[i];
	return NULL;
}

/**
 * opt_next() - the values of a repeatable option in turn
 * @prev:	NULL for the first, then the value it returned last
 * Return: the next value of @desc, or NULL after the last
 */
const struct opt_value *opt_next(const struct addr_spec *spec, const struct opt_desc *desc,
				 const struct opt_value *prev)
{
	unsigned i = prev ? (unsigned)(prev - spec->opts) + 1 : 0;

	for (; i < spec->nopts; i++)
		if (spec->opts[i].desc == desc)
			return &spec->opts[i];
	return NULL;
}

bool opt_get_flag(const struct addr_spec *spec, const struct opt_desc *desc, bool dflt)
{
	const struct opt_value *v = opt_find(spec, desc);

	return v ? v->num != 0 : dflt;
}

unsigned long long opt_get_num(const struct addr_spec *spec, const struct opt_desc *desc,
			       unsigned long long dflt)
{
	const struct opt_value *v = opt_find(spec, desc);

	return v ? v->num : dflt;
}

double opt_get_secs(const struct addr_spec *spec, const struct opt_desc *desc, double dflt)
{
	const struct opt_value *v = opt_find(spec, desc);

	return v ? v->secs : dflt;
}

const char *opt_get_str(const struct addr_spec *spec, const struct opt_desc *desc)
{
	const struct opt_value *v = opt_find(spec, desc);

	return v ? v->text : NULL;
}

/* ---- help ------------------------------------------------------------- */

static void print_syntax(const struct addr_type *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", t->name, t->nparams ? ":" : "",
		 t->nparams ? t->params : "");
}

void addr_print_types(void)
{
	char syntax[96];

	printf("Address types (vrelay -h TYPE shows a type's options):\n");
	for (const struct addr_type *const *t = addr_types; *t; t++) {
		char aliases[64] = "";
		size_t n = 0;

		for (unsigned i = 0; (*t)->aliases[i]; i++)
			n += (size_t)snprintf(aliases + n, sizeof(aliases) - n, "%s%s",
					      i ? " " : "", (*t)->aliases[i]);
		print_syntax(*t, syntax, sizeof(syntax));
		printf("  %-36s %s%s%s%s%s\n", syntax, (*t)->summary,
		       *aliases ? " [" : "", aliases, *aliases ? "]" : "",
		       ((*t)->flags & ADDR_STUB) ? " (unavailable)" : "");
	}
}

/**
 * addr_print_type_help() - "vrelay -h TYPE": the syntax and every option
 * Return: 0, or -ENOENT for an unknown type
 */
int addr_print_type_help(const char *name)
{
	const struct addr_type *t = addr_type_find(name);
	char syntax[96];

	if (!t)
		return -ENOENT;
	print_syntax(t, syntax, sizeof(syntax));
	printf("%s\n  %s\n", syntax, t->summary);
	if (t->flags & ADDR_STUB)
		printf("  unavailable: %s\n", t->unavailable);
	if (t->aliases[0]) {
		printf("Aliases:");
		for (unsigned i = 0; t->aliases[i]; i++)
			printf(" %s", t->aliases[i]);
		printf("\n");
	}
	printf("Options:\n");
	for (size_t l = 0; l < ADDR_MAX_OPT_LISTS && t->opts[l]; l++)
		for (const struct opt_desc *const *o = t->opts[l]; *o; o++)
			opt_print_help(*o);
	for (const struct opt_desc *const *o = addr_common_opts; *o; o++) {
		bool framing = *o == &opt_frames || *o == &opt_post || *o == &opt_accept_post;

		/* what the type would refuse is not offered */
		if ((t->flags & (ADDR_FRAMES | ADDR_OWN_LAYER)) && (framing || *o == &opt_ignoreeof))
			continue;
		if ((t->flags & ADDR_TLS) && framing)
			continue;
		opt_print_help(*o);
	}
#ifdef WITH_OPENSSL
	if (!(t->flags & (ADDR_FRAMES | ADDR_OWN_LAYER))) {
		printf("TLS options%s:\n", t->flags & ADDR_TLS ? "" : " (with tls)");
		for (const struct opt_desc *const *o = tls_opts; *o; o++)
			if (!(t->flags & ADDR_TLS) || *o != tls_opts[0])
				opt_print_help(*o);
	}
#endif
	return 0;
}
