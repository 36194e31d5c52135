/* SPDX-License-Identifier: MIT */
/*
 * ssh-proxy.c - "vrelay ssh-proxy HOST PORT", for ssh's ProxyCommand
 *
 * HOST says how to reach the VM:  vsock/CID, vsock-mux/UDSPATH,
 * hyperkit/DIR/CID, unix/PATH.  It is turned into the matching address
 * (VSOCK-CONNECT, VSOCK-MUX, HYPERKIT-UNIX, UNIX-CONNECT) and connected.
 *
 * With "ProxyUseFdpass yes" ssh gives its proxy one end of a socketpair as
 * stdin and stdout (without it, two pipes): then the connected socket is
 * handed to ssh with SCM_RIGHTS and this process exits, so no relay
 * process sits in the middle.  Otherwise stdin/stdout are relayed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "applets.h"
#include "log.h"
#include "relay.h"
#include "util.h"

#define EXIT_USAGE 2

static void usage(void)
{
	fprintf(stderr,
		"usage: vrelay ssh-proxy [--fdpass|--no-fdpass] [-d] HOST PORT\n"
		"  HOST: vsock/CID  vsock-mux/UDSPATH  hyperkit/DIR/CID  unix/PATH\n"
		"  in ~/.ssh/config:  ProxyCommand vrelay ssh-proxy %%h %%p\n"
		"                     ProxyUseFdpass yes\n");
}

/* Copy @s into @out with the grammar's special characters escaped */
static void escape(const char *s, char *out, size_t size)
{
	size_t n = 0;

	if (size < 3)
		return;
	for (; *s && n + 2 < size; s++) {
		if (strchr(":,!'\"\\[]", *s))
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = '\0';
}

/*
 * In "ssh unix/run/vm.sock" the slash after "unix" separates; the path is
 * /run/vm.sock.  A path that already starts with / or ./ is kept as it is,
 * so "unix//abs" and "unix/./rel" work too.
 */
static void host_path(const char *p, char *out, size_t size)
{
	char abs[1024];

	if (p[0] == '/' || (p[0] == '.' && p[1] == '/'))
		escape(p, out, size);
	else {
		snprintf(abs, sizeof(abs), "/%s", p);
		escape(abs, out, size);
	}
}

/**
 * build_address() - the vrelay address for an ssh-proxy HOST and PORT
 * Return: 0, or -EINVAL for a HOST of no known form
 */
static int build_address(const char *host, const char *port, char *out, size_t size)
{
	char a[1024], b[1024], p[64];
	const char *rest, *slash;

	/* ssh's %p is a number, but a PORT typed by hand must not add options
	 * ("22,fork"): escaped, it is one parameter that the type refuses */
	escape(port, p, sizeof(p));
	port = p;
	if (!strncmp(host, "vsock/", 6)) {
		escape(host + 6, a, sizeof(a));
		snprintf(out, size, "VSOCK-CONNECT:%s:%s", a, port);
	} else if (!strncmp(host, "vsock-mux/", 10)) {
		host_path(host + 10, a, sizeof(a));
		snprintf(out, size, "VSOCK-MUX:%s:%s", a, port);
	} else if (!strncmp(host, "hyperkit/", 9)) {
		/* hyperkit/DIR/CID: the CID is after the last slash */
		rest = host + 9;
		slash = strrchr(rest, '/');
		if (!slash || slash == rest)
			return -EINVAL;
		snprintf(b, sizeof(b), "%.*s", (int)(slash - rest), rest);
		host_path(b, a, sizeof(a));
		escape(slash + 1, b, sizeof(b));
		snprintf(out, size, "HYPERKIT-UNIX:%s:%s:%s", a, b, port);
	} else if (!strncmp(host, "unix/", 5)) {
		host_path(host + 5, a, sizeof(a));
		snprintf(out, size, "UNIX-CONNECT:%s", a);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* Hand @fd to ssh over our stdout, a unix socket */
static int pass_fd(int fd)
{
	char byte = '\0';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	while (sendmsg(STDOUT_FILENO, &msg, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int ssh_proxy_main(int argc, char **argv)
{
	int fdpass = -1, debug = 0, i, status;
	char text[4096];
	struct addr_spec *target = NULL, *stdio = NULL;
	struct endpoint ep;
	struct errbuf err;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--fdpass"))
			fdpass = 1;
		else if (!strcmp(argv[i], "--no-fdpass"))
			fdpass = 0;
		else if (argv[i][1] == 'd' && strspn(argv[i] + 1, "d") == strlen(argv[i] + 1))
			debug += (int)strlen(argv[i] + 1);
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			return 0;
		} else {
			log_err("ssh-proxy: unknown option \"%s\"", argv[i]);
			usage();
			return EXIT_USAGE;
		}
	}
	log_set_level(debug);
	if (argc - i != 2) {
		usage();
		return EXIT_USAGE;
	}
	if (build_address(argv[i], argv[i + 1], text, sizeof(text)) < 0) {
		log_err("ssh-proxy: %s: unknown host form (vsock/CID, vsock-mux/UDSPATH, "
			"hyperkit/DIR/CID or unix/PATH)", argv[i]);
		return EXIT_USAGE;
	}
	target = addr_parse(text, &err);
	if (!target) {
		log_err("ssh-proxy: %s: %s", argv[i], err.msg);
		return EXIT_USAGE;
	}
	/* ssh's fd-passing proxies get a socketpair, the others pipes */
	if (fdpass < 0)
		fdpass = util_is_socket(STDOUT_FILENO);
	if (fdpass) {
		status = 1;
		if (addr_open(target, NULL, &ep) == 0) {
			int rc = pass_fd(ep.rfd);

			if (rc < 0)
				log_err("ssh-proxy: passing the connection to ssh: %s", strerror(-rc));
			else
				status = 0;
			endpoint_close(&ep);
		}
		addr_free(target);
		return status;
	}
	stdio = addr_parse("-", &err);
	if (!stdio) {
		addr_free(target);
		log_err("ssh-proxy: %s", err.msg);
		return 1;
	}
	struct relay_conf conf;

	relay_conf_defaults(&conf);
	status = relay_run(&conf, stdio, target);
	addr_free(stdio);
	addr_free(target);
	return status;
}
