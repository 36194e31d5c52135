/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what every harness in tests/fuzz shares: the libFuzzer entry
 * points, a failed-property abort, and the network namespace that keeps
 * what a harness sends on this machine.
 *
 * Each fuzz-<target>.c is built twice: by scripts/fuzz with clang's
 * libFuzzer, and by "make check" with replay.c as main(), which runs every
 * checked-in input through the same LLVMFuzzerTestOneInput().
 */
#ifndef VRELAY_FUZZ_H
#define VRELAY_FUZZ_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Defined by replay.c only: under "make check" a harness that cannot run
 * here is a skipped test, under libFuzzer it is an abort */
void fuzz_replay_skip(const char *why) __attribute__((weak));

/* A property of the code under test does not hold: say which, and crash so
 * that libFuzzer keeps the input */
#define fuzz_check(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz: %s:%d: property failed: %s: ",	\
				__FILE__, __LINE__, #cond);			\
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
			abort();						\
		}								\
	} while (0)

static inline int fuzz_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/**
 * fuzz_enter_netns() - move this process into a new, empty network
 *			namespace: only a loopback that is down, no route
 *
 * As root a plain CLONE_NEWNET; otherwise a user namespace (mapping our
 * own ids) brings the right to make one.  Checked afterwards: a UDP
 * connect() to a documentation address must find no route (a UDP connect
 * sends nothing).
 * Return: 0, or -1 with @why set
 */
static inline int fuzz_enter_netns(const char **why)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	uid_t uid = getuid();
	gid_t gid = getgid();
	int fd, rc;

	if (unshare(CLONE_NEWNET) < 0) {
		char map[64];

		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
			*why = "cannot enter a new network namespace (neither as root nor "
			       "in a user namespace)";
			return -1;
		}
		/* best effort: ids stay usable for files either way */
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
		fuzz_write_file("/proc/self/uid_map", map);
		fuzz_write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
		fuzz_write_file("/proc/self/gid_map", map);
	}
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = "no UDP socket to check the namespace with";
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	if (rc == 0 || errno != ENETUNREACH) {
		*why = "the new network namespace still has a route out";
		return -1;
	}
	return 0;
}

/* fuzz_enter_netns() or no run at all */
static inline void fuzz_require_netns(const char *target)
{
	const char *why = NULL;

	if (fuzz_enter_netns(&why) == 0)
		return;
	if (fuzz_replay_skip)
		fuzz_replay_skip(why);
	fprintf(stderr, "%s: %s: refusing to run (its inputs would reach the network)\n",
		target, why);
	abort();
}

#endif
