/* SPDX-License-Identifier: MIT */
/*
 * addr-exec.c - EXEC:command and SYSTEM:command, a child on a socketpair
 *
 * The child's stdin and stdout are one end of a socketpair, so half-close
 * works: EOF towards the child is shutdown(SHUT_WR), and it still writes
 * its answer.  Who connected to the listener is in its environment, under
 * vrelay's names and socat's.  EXEC splits its command into words itself
 * (quotes and backslashes as in sh, no expansion); SYSTEM hands it to
 * /bin/sh -c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "addr-types.h"
#include "log.h"

static const struct opt_desc opt_stderr = { "stderr", OPT_FLAG, 0, 0, 0, NULL,
	"send the child's stderr into the relay too" };
static const struct opt_desc *const exec_opts[] = { &opt_stderr, NULL };

struct exec_priv {
	char **argv;
	char *words;
};

/* Split @cmd into words the way sh would, without expansions */
static int split_words(const char *cmd, struct exec_priv *x, struct errbuf *err)
{
	size_t len = strlen(cmd), nw = 0;
	char *out;
	bool sq = false, dq = false, inword = false;

	x->words = out = malloc(len + 1);
	x->argv = calloc(len / 2 + 2, sizeof(char *));
	if (!out || !x->argv)
		return err_set(err, "out of memory");
	for (const char *p = cmd; *p; p++) {
		char c = *p;

		if (!sq && !dq && (c == ' ' || c == '\t' || c == '\n')) {
			if (inword) {
				*out++ = '\0';
				inword = false;
			}
			continue;
		}
		if (!inword) {
			x->argv[nw++] = out;
			inword = true;
		}
		if (c == '\'' && !dq)
			sq = !sq;
		else if (c == '"' && !sq)
			dq = !dq;
		else if (c == '\\' && !sq && p[1])
			*out++ = *++p;
		else
			*out++ = c;
	}
	*out = '\0';
	if (sq || dq)
		return err_set(err, "command: unterminated %s quote", sq ? "single" : "double");
	if (nw == 0)
		return err_set(err, "command: empty");
	return 0;
}

static int exec_prepare(struct addr_spec *spec, struct errbuf *err)
{
	struct exec_priv *x = calloc(1, sizeof(*x));

	if (!x)
		return err_set(err, "out of memory");
	spec->priv = x;
	if (spec->type == &addr_system) {
		if (!*spec->params[0])
			return err_set(err, "command: empty");
		x->argv = calloc(4, sizeof(char *));
		if (!x->argv)
			return err_set(err, "out of memory");
		x->argv[0] = "/bin/sh";
		x->argv[1] = "-c";
		x->argv[2] = spec->params[0];
		return 0;
	}
	return split_words(spec->params[0], x, err);
}

static void exec_cleanup(struct addr_spec *spec)
{
	struct exec_priv *x = spec->priv;

	if (!x)
		return;
	free(x->argv);
	free(x->words);
	free(x);
	spec->priv = NULL;
}

static void set_peer_env(const struct peer_info *peer)
{
	static const struct { const char *name; size_t off; } vars[] = {
		{ "PEERADDR", offsetof(struct peer_info, addr) },
		{ "PEERPORT", offsetof(struct peer_info, port) },
		{ "SOCKADDR", offsetof(struct peer_info, sockaddr) },
		{ "SOCKPORT", offsetof(struct peer_info, sockport) },
	};
	char name[32];

	if (!peer)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *value = (const char *)peer + vars[i].off;

		if (!*value)
			continue;
		snprintf(name, sizeof(name), "VRELAY_%s", vars[i].name);
		setenv(name, value, 1);
		snprintf(name, sizeof(name), "SOCAT_%s", vars[i].name);
		setenv(name, value, 1);
	}
}

/* In the child: never returns */
static void exec_child(const struct addr_spec *spec, const struct exec_priv *x,
		       const struct peer_info *peer, int sock, int report)
{
	int e;

	/* vrelay ignores SIGPIPE; a child like "yes" must die of it */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0 ||
	    (opt_get_flag(spec, &opt_stderr, false) && dup2(sock, 2) < 0))
		goto fail;
	if (sock > 2)
		close(sock);
	set_peer_env(peer);
	execvp(x->argv[0], x->argv);
fail:
	e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/**
 * exec_open() - start the child; learn through a close-on-exec pipe
 *		 whether exec worked, so that "no such program" is a clear
 *		 error here and not an empty relay
 */
static int exec_open(struct addr_spec *spec, const struct peer_info *peer,
		     struct endpoint *ep)
{
	const struct exec_priv *x = spec->priv;
	int sv[2], report[2], e = 0;
	ssize_t n;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		e = errno;
		log_err("%s: socketpair: %s", spec->text, strerror(e));
		return -e;
	}
	if (pipe2(report, O_CLOEXEC) < 0) {
		e = errno;
		log_err("%s: pipe: %s", spec->text, strerror(e));
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	log_notice("%s: starting %s", spec->text, x->argv[0]);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		close(report[0]);
		exec_child(spec, x, peer, sv[1], report[1]);
	}
	e = errno;
	close(sv[1]);
	close(report[1]);
	if (pid < 0) {
		log_err("%s: fork: %s", spec->text, strerror(e));
		close(sv[0]);
		close(report[0]);
		return -e;
	}
	do
		n = read(report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == sizeof(e)) {
		log_err("%s: exec %s: %s", spec->text, x->argv[0], strerror(e));
		close(sv[0]);
		return -e;
	}
	log_info("%s: child %ld running", spec->text, (long)pid);
	endpoint_set_fd(ep, sv[0], EP_SOCKET | EP_OWNED_SOCKET);
	ep->pid[0] = pid;
	return 0;
}

const struct addr_type addr_exec = {
	.name = "EXEC",
	.params = "command",
	.nparams = 1,
	.flags = ADDR_REST | ADDR_PEER_ENV,
	.summary = "run a program (no shell) with its stdin/stdout on a socketpair",
	.opts = { exec_opts },
	.prepare = exec_prepare,
	.open = exec_open,
	.cleanup = exec_cleanup,
};

const struct addr_type addr_system = {
	.name = "SYSTEM",
	.params = "command",
	.nparams = 1,
	.flags = ADDR_REST | ADDR_PEER_ENV,
	.summary = "run a shell command (/bin/sh -c) on a socketpair",
	.opts = { exec_opts },
	.prepare = exec_prepare,
	.open = exec_open,
	.cleanup = exec_cleanup,
};
