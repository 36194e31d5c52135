/* SPDX-License-Identifier: MIT */
/*
 * fuzz-addr.c - the address grammar (addr_parse() in src/addr.c: types,
 * parameters, quoting, "A!!B", options and their values, then each type's
 * prepare() and tls_prepare(), which read option values further: forward=,
 * dns-zone=, range=, mac=, alpn=, commands, GUIDs ...), and ssh-proxy's
 * HOST PORT to address translation (src/ssh-proxy.c).
 *
 * Input: an address as one command-line argument (up to the first NUL);
 * or "ssh-proxy HOST PORT", which is translated as "vrelay ssh-proxy"
 * does and then parsed.  A failed parse must say why; a parse that works
 * must give the same spec twice, with the type's number of parameters; and
 * ssh-proxy's escaping must bring back the HOST's path and CID unchanged.
 *
 * Parsing touches no network and writes no file: prepare() may look up
 * names, users and groups and read TLS files.  While an input runs, this
 * harness makes getaddrinfo() numeric-only (no DNS), answers getpwnam()
 * and getgrnam() itself (no NSS daemons), and lets fopen() only read
 * regular files (no FIFO or device that would block); libFuzzer builds
 * also enter an empty network namespace when they can.
 */
#include "config.h"

#include <dlfcn.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/stat.h>

#include "addr.h"
#include "fuzz.h"
#include "log.h"

/* build_address() is ssh-proxy.c's own: take the file in, renaming its
 * entry point, which the linked program has too */
#define ssh_proxy_main fuzz_ssh_proxy_main
#include "ssh-proxy.c"
#undef ssh_proxy_main

static bool in_target;

/* ---- the sandbox: libc calls prepare() may make ---- */

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	static int (*real)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	struct addrinfo h = { 0 };

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
	if (hints)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	return real(node, service, &h, res);
}

struct passwd *getpwnam(const char *name)
{
	static struct passwd root = { .pw_name = "root", .pw_dir = "/", .pw_shell = "/bin/sh" };

	return !strcmp(name, "root") ? &root : NULL;
}

struct group *getgrnam(const char *name)
{
	static struct group root = { .gr_name = "root" };

	return !strcmp(name, "root") ? &root : NULL;
}

static bool may_open(const char *path, const char *mode)
{
	struct stat st;

	if (!in_target)
		return true;
	return !strpbrk(mode, "wa+") && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

FILE *fopen(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fopen");
	if (!may_open(path, mode)) {
		errno = EACCES;
		return NULL;
	}
	return real(path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fopen64");
	if (!may_open(path, mode)) {
		errno = EACCES;
		return NULL;
	}
	return real(path, mode);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *why;

	setenv("VRELAY_FORBID_VSOCK", "1", 1);
	/* a TLS client loads the system's CAs: hundreds of milliseconds a
	 * parse with OpenSSL 3, and nothing of ours to test */
	setenv("SSL_CERT_FILE", "/nonexistent/fuzz-addr", 1);
	setenv("SSL_CERT_DIR", "/nonexistent/fuzz-addr", 1);
	/* not required (the calls above keep parsing local), but welcome */
	if (!fuzz_replay_skip)
		fuzz_enter_netns(&why);
	log_to_file("/dev/null");
	log_set_level(3);
	return 0;
}

/* ---- properties ---- */

static bool same_spec(const struct addr_spec *a, const struct addr_spec *b)
{
	if (!a || !b)
		return a == b;
	if (a->type != b->type || a->nparams != b->nparams || a->nopts != b->nopts)
		return false;
	for (unsigned i = 0; i < a->nparams; i++)
		if (strcmp(a->params[i], b->params[i]))
			return false;
	for (unsigned i = 0; i < a->nopts; i++)
		if (a->opts[i].desc != b->opts[i].desc || a->opts[i].num != b->opts[i].num ||
		    !a->opts[i].text != !b->opts[i].text ||
		    (a->opts[i].text && strcmp(a->opts[i].text, b->opts[i].text)))
			return false;
	return same_spec(a->dual, b->dual);
}

static void check_spec(const char *text, const struct addr_spec *s)
{
	for (; s; s = s->dual) {
		fuzz_check(s->text == text && s->type, "spec of \"%s\"", text);
		fuzz_check(s->nparams == s->type->nparams, "%s with %u parameters", s->type->name,
			   s->nparams);
		for (unsigned i = 0; i < s->nopts; i++)
			fuzz_check(s->opts[i].desc, "option without a descriptor");
	}
}

static struct addr_spec *parse(const char *text)
{
	struct errbuf err = { "" };
	struct addr_spec *s = addr_parse(text, &err);

	if (!s)
		fuzz_check(err.msg[0], "\"%s\" refused without a message", text);
	else
		check_spec(text, s);
	return s;
}

/* "ssh-proxy HOST PORT": the address must name HOST's parts unchanged */
static void ssh_proxy(char *args)
{
	char *port = strchr(args, ' '), text[4096], want[1100];
	const char *host = args, *path = NULL, *cid = NULL;
	struct addr_spec *s;

	if (!port)
		return;
	*port++ = '\0';
	if (build_address(host, port, text, sizeof(text)) < 0)
		return;
	s = parse(text);
	if (s && strlen(host) < 400 && strlen(port) < 400 && !strpbrk(port, ":,!'\"\\[]")) {
		if (!strncmp(host, "vsock/", 6)) {
			cid = host + 6;
		} else if (!strncmp(host, "unix/", 5) || !strncmp(host, "vsock-mux/", 10)) {
			path = strchr(host, '/') + 1;
		} else {
			/* hyperkit/DIR/CID */
			const char *slash = strrchr(host + 9, '/');

			snprintf(want, sizeof(want), "%.*s", (int)(slash - (host + 9)), host + 9);
			path = want;
			cid = slash + 1;
		}
		if (path) {
			char full[sizeof(want) + 1];

			snprintf(full, sizeof(full), "%s%s",
				 path[0] == '/' || (path[0] == '.' && path[1] == '/') ? "" : "/", path);
			fuzz_check(!strcmp(s->params[0], full), "ssh-proxy %s: path \"%s\", want \"%s\"",
				   host, s->params[0], full);
		}
		if (cid)
			fuzz_check(!strcmp(s->params[s->nparams - 2], cid),
				   "ssh-proxy %s: cid \"%s\"", host,
				   s->params[s->nparams - 2]);
	}
	addr_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size);
	struct addr_spec *a, *b;

	if (!text)
		return 0;
	in_target = true;
	if (!strncmp(text, "ssh-proxy ", 10)) {
		ssh_proxy(text + 10);
	} else {
		a = parse(text);
		b = parse(text);
		fuzz_check(same_spec(a, b), "\"%s\" parses two ways", text);
		addr_free(a);
		addr_free(b);
	}
	in_target = false;
	free(text);
	return 0;
}
