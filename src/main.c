/* SPDX-License-Identifier: MIT */
/*
 * main.c - applet dispatch and the relay's command line
 *
 * vrelay is a multi-call binary, as busybox is: the name it was started
 * under picks the applet (vrelay, vrelay-ssh-proxy), "vrelay APPLET ..."
 * works too, "vrelay --list" lists them, and an unknown applet name exits
 * 127.  Only this file decides exit statuses: 0 clean end, 1 runtime
 * failure, 2 usage error.
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "addr-types.h"
#include "applets.h"
#include "dump.h"
#include "frame.h"
#include "log.h"
#include "loop.h"
#include "relay.h"
#include "sock.h"
#include "util.h"

#define EXIT_USAGE 2

static const struct applet applets[] = {
	{ "vrelay", relay_main },
	{ "ssh-proxy", ssh_proxy_main },
};

static void usage_globals(void)
{
	printf("Usage: vrelay [OPTIONS] ADDRESS ADDRESS\n"
	       "       vrelay ssh-proxy HOST PORT   (ssh ProxyCommand; also vrelay-ssh-proxy)\n"
	       "       vrelay -h [TYPE] | -V | --list\n"
	       "\n"
	       "Relays bytes both ways between two addresses (socat's grammar:\n"
	       "TYPE:param:param,option,option=value; \"-\" is STDIO; A!!B reads A, writes B).\n"
	       "\n"
	       "Options:\n"
	       "  -d            more messages: -d notices, -d -d every step of opening an\n"
	       "                address, -d -d -d debug; -dN is N times -d, -d0 errors only\n"
	       "  -v, -x        dump the traffic to stderr as text / hex ('>' left to right)\n"
	       "  -r FILE       copy the left-to-right bytes to FILE, raw (pcap for frames)\n"
	       "  -R FILE       copy the right-to-left bytes to FILE, raw (pcap for frames)\n"
	       "  -b SIZE       transfer block size: pipe or buffer per direction (default 256k)\n"
	       "  -t SECONDS    after EOF in one direction, end this long later (default 0.5)\n"
	       "  -T SECONDS    end after this long without traffic\n"
	       "  -u, -U        one direction only: left to right / right to left\n"
	       "  -M            many-connections mode: one process serves every connection\n"
	       "                of the listening left address (same as its \"multi\" option)\n"
	       "  -S, --statistics  byte, frame and connection counts at the end (and on SIGUSR1)\n"
	       "  -lf FILE      messages to FILE;  -ly[FACILITY]  messages to syslog\n"
	       "  -4, -6        TCP and TCP-LISTEN use IPv4 only / IPv6 only\n"
	       "  -V, --version version;  -h, --help [TYPE]  this help, or TYPE's options\n"
	       "\n"
	       "Exit status: 0 clean end, 1 runtime failure, 2 usage error.\n\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s (vrelay -h shows the usage)", msg);
	return EXIT_USAGE;
}

static int need_arg(int argc, char **argv, int i)
{
	if (i + 1 >= argc) {
		usage_error("%s: missing value", argv[i]);
		return -1;
	}
	return 0;
}

static int parse_secs_arg(const char *opt, const char *text, double *out)
{
	char msg[128];
	int rc = util_parse_secs(text, 31536000.0, out);

	if (rc == 0)
		return 0;
	snprintf(msg, sizeof(msg), "%s: invalid duration \"%s\"", opt, text);
	log_err("%s", msg);
	return -1;
}

/*
 * -r/-R: opened once, before anything else is, so that a bad path is a
 * usage error and fork children share (and append to) one file.  A frame
 * relay's copies are pcap files.
 */
static int open_raw_copies(struct relay_conf *conf, const char *const path[2], bool frames)
{
	for (int dir = 0; dir < 2; dir++) {
		int fd;

		if (!path[dir])
			continue;
		fd = dump_raw_open(dir, path[dir], frames);
		if (fd < 0) {
			log_err("%s %s: %s", dir == 0 ? "-r" : "-R", path[dir], strerror(-fd));
			return -1;
		}
		conf->pump.rawfd[dir] = fd;
	}
	return 0;
}

static void close_raw_copies(struct relay_conf *conf)
{
	for (int dir = 0; dir < 2; dir++) {
		if (conf->pump.rawfd[dir] >= 0)
			close(conf->pump.rawfd[dir]);
		conf->pump.rawfd[dir] = -1;
	}
}

/* Both addresses are parsed and checked before either is opened */
static int check_pair(struct addr_spec *left, struct addr_spec *right, bool multi)
{
	if (addr_is_listener(right) && (opt_get_flag(right, &opt_fork, false) ||
					opt_get_flag(right, &opt_multi, false))) {
		log_err("%s: fork and multi work on the first address only", right->text);
		return -1;
	}
	if (multi) {
		if (!addr_is_listener(left) || left->dual) {
			log_err("%s: -M needs a listening first address", left->text);
			return -1;
		}
		if (opt_get_flag(left, &opt_fork, false)) {
			log_err("%s: fork and -M (multi) exclude each other", left->text);
			return -1;
		}
	}
	for (const struct addr_spec *half = right; half; half = half->dual) {
		if ((multi || opt_get_flag(left, &opt_multi, false)) &&
		    (opt_find(half, &opt_retry) || opt_get_flag(half, &opt_forever, false))) {
			/* one process serves everyone: it cannot sleep between retries */
			log_err("%s: retry and forever do not apply in the many-connections mode",
				right->text);
			return -1;
		}
	}
	/* right is never NULL (the loop above tests its dual halves) */
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
	if (left->type->start && right->type->start) {
		/* two engines, and not a single guest between them */
		log_err("%s: a %s needs a link to a guest on the other side, not another %s",
			right->text, right->type->name, left->type->name);
		return -1;
	}
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): as above */
	if (opt_get_flag(left, &opt_fork, false) && right->type->start) {
		log_err("%s: with fork every connection would get an engine of its own, whose "
			"forwards and API clash; use -M (or multi): one engine for all links",
			right->text);
		return -1;
	}
	if (opt_get_flag(left, &opt_fork, false) && opt_get_flag(left, &opt_multi, false)) {
		log_err("%s: fork and multi exclude each other", left->text);
		return -1;
	}
	return 0;
}

int relay_main(int argc, char **argv)
{
	struct relay_conf conf;
	struct addr_spec *spec[2] = { NULL, NULL };
	const char *addrs[2], *rawpath[2] = { NULL, NULL };
	int naddrs = 0, debug = 0, status = EXIT_USAGE;
	bool multi = false;
	struct errbuf err;

	relay_conf_defaults(&conf);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		unsigned long long v;

		if (naddrs || a[0] != '-' || a[1] == '\0' || (a[1] == '!' && a[2] == '!') ||
		    (a[1] == ',' )) {
			if (naddrs == 2)
				return usage_error("too many arguments: \"%s\" (two addresses expected)", a);
			addrs[naddrs++] = a;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "-?")) {
			if (i + 1 < argc) {
				if (addr_print_type_help(argv[i + 1]) < 0)
					return usage_error("-h: unknown address type \"%s\"", argv[i + 1]);
				return 0;
			}
			usage_globals();
			addr_print_types();
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("vrelay %s (%s event loop)\n", PACKAGE_VERSION, loop_backend());
			return 0;
		} else if (!strcmp(a, "--list")) {
			applets_list();
			return 0;
		} else if (a[1] == 'd' && strspn(a + 1, "d") == strlen(a + 1)) {
			debug += (int)strlen(a + 1);
		} else if (a[1] == 'd' && util_parse_uint(a + 2, 0, 4, &v) == 0) {
			debug = v ? (int)v : -1;	/* -d0: errors only */
		} else if (!strcmp(a, "-v")) {
			conf.pump.dump = DUMP_TEXT;
		} else if (!strcmp(a, "-x")) {
			conf.pump.dump = DUMP_HEX;
		} else if (!strcmp(a, "-r") || !strcmp(a, "-R")) {
			if (need_arg(argc, argv, i))
				return EXIT_USAGE;
			rawpath[a[1] == 'R'] = argv[++i];
		} else if (!strcmp(a, "-u")) {
			conf.pump.only_dir = 0;
		} else if (!strcmp(a, "-U")) {
			conf.pump.only_dir = 1;
		} else if (!strcmp(a, "-M")) {
			multi = true;
		} else if (!strcmp(a, "-S") || !strcmp(a, "--statistics")) {
			conf.stats = true;
		} else if (!strcmp(a, "-4")) {
			addr_default_family = AF_INET;
		} else if (!strcmp(a, "-6")) {
			addr_default_family = AF_INET6;
		} else if (!strcmp(a, "-b")) {
			if (need_arg(argc, argv, i))
				return EXIT_USAGE;
			if (util_parse_size(argv[++i], 4096, 64ULL << 20, &v) < 0)
				return usage_error("-b: block size must be 4096..64m, got \"%s\"", argv[i]);
			conf.pump.bufsize = (size_t)v;
		} else if (!strcmp(a, "-t") || !strcmp(a, "-T")) {
			if (need_arg(argc, argv, i))
				return EXIT_USAGE;
			if (parse_secs_arg(a, argv[++i], a[1] == 't' ? &conf.pump.linger
								      : &conf.pump.idle) < 0)
				return EXIT_USAGE;
		} else if (!strcmp(a, "-lf")) {
			if (need_arg(argc, argv, i))
				return EXIT_USAGE;
			int rc = log_to_file(argv[++i]);

			if (rc < 0) {
				log_err("-lf %s: %s", argv[i], strerror(-rc));
				return EXIT_USAGE;
			}
		} else if (!strncmp(a, "-ly", 3)) {
			if (log_to_syslog(a[3] ? a + 3 : NULL) < 0)
				return usage_error("-ly%s: unknown facility (daemon, user, local0..local7)",
						   a + 3);
		} else {
			return usage_error("unknown option \"%s\"", a);
		}
	}
	log_set_level(debug);
	if (naddrs != 2)
		return usage_error("two addresses expected, %d given", naddrs);
	for (int k = 0; k < 2; k++) {
		spec[k] = addr_parse(addrs[k], &err);
		if (!spec[k]) {
			log_err("%s: %s", addrs[k], err.msg);
			goto out;
		}
	}
	if (multi && addr_is_listener(spec[0]) && !spec[0]->dual &&
	    !opt_find(spec[0], &opt_multi)) {
		/* -M is the global spelling of the listener's "multi" */
		if (spec[0]->nopts == ADDR_MAX_OPTS) {
			log_err("%s: too many options for -M to add multi (at most %d)",
				spec[0]->text, ADDR_MAX_OPTS);
			goto out;
		}
		spec[0]->opts[spec[0]->nopts++] =
			(struct opt_value){ .desc = &opt_multi, .num = 1 };
	}
	if (check_pair(spec[0], spec[1], multi) < 0)
		goto out;
	if (open_raw_copies(&conf, rawpath, frame_relay_wanted(spec[0], spec[1])) < 0)
		goto out;
	status = relay_run(&conf, spec[0], spec[1]);
out:
	close_raw_copies(&conf);
	addr_free(spec[0]);
	addr_free(spec[1]);
	return status;
}

void applets_list(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(applets); i++)
		printf("%s\n", applets[i].name);
}

static const struct applet *applet_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(applets); i++)
		if (!strcmp(applets[i].name, name))
			return &applets[i];
	return NULL;
}

int main(int argc, char **argv)
{
	char *copy = strdup(argc > 0 ? argv[0] : "vrelay");
	const char *name = copy ? basename(copy) : "vrelay";
	const struct applet *app;
	int rc;

	/* "vrelay-ssh-proxy" is the ssh-proxy applet */
	if (!strncmp(name, "vrelay-", 7))
		name += 7;
	app = applet_find(name);
	if (!app) {
		fprintf(stderr, "vrelay: applet not found: %s (vrelay --list)\n", name);
		free(copy);
		return 127;
	}
	if (app == &applets[0] && argc > 1) {
		const struct applet *sub = applet_find(argv[1]);

		/* "vrelay ssh-proxy HOST PORT" */
		if (sub && sub != &applets[0]) {
			free(copy);
			return sub->main(argc - 1, argv + 1);
		}
	}
	rc = app->main(argc, argv);
	free(copy);
	return rc;
}
