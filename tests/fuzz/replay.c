/* SPDX-License-Identifier: MIT */
/*
 * replay.c - main() for a fuzz harness under "make check": every file of
 * tests/fuzz/corpus/<target>/ and tests/fuzz/regress/<target>/ (<target>
 * without its "fuzz-") goes once
 * through the harness's LLVMFuzzerTestOneInput(), as libFuzzer would run
 * it, built with the project's own compiler and flags (and sanitizers in
 * CI).  TAP on stdout; an input that crashes is named in a "not ok" line.
 *
 *   test-fuzz-<target> [DIR...]	(default: the two directories above,
 *					 under $VRELAY_SRCDIR or the source
 *					 tree this was built from)
 */
#include "config.h"

/* fuzz-addr links all of vrelay, whose main() is renamed for it */
#undef main

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_SANITIZER 1
#endif
#endif
#ifdef HAVE_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif

#pragma weak LLVMFuzzerInitialize

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET=\"fuzz-NAME\""
#endif

static int ntest;
static const char *current;

void fuzz_replay_skip(const char *why)
{
	printf("ok 1 - %s # skip %s\n1..1\n", FUZZ_TARGET, why);
	exit(0);
}

/* The input that crashed, as a TAP failure, before the process dies */
static void report_crash(void)
{
	if (!current)
		return;
	printf("not ok %d - %s: %s crashed the harness\n", ntest + 1, FUZZ_TARGET, current);
	fflush(stdout);
	current = NULL;
}

static void on_abort(int sig)
{
	report_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int filter_regular(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Replay every file of @dir.  Return: how many, or -1 if @dir is missing */
static int replay_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, filter_regular, alphasort), done = 0;

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		uint8_t *buf;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		buf = malloc((size_t)st.st_size + 1);
		f = fopen(path, "rb");
		if (!buf || !f || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
			printf("not ok %d - %s: cannot read %s\n", ++ntest, FUZZ_TARGET, path);
			free(buf);
			if (f)
				fclose(f);
			continue;
		}
		fclose(f);
		current = path;
		LLVMFuzzerTestOneInput(buf, (size_t)st.st_size);
		current = NULL;
		free(buf);
		done++;
	}
	free(names);
	return done;
}

int main(int argc, char **argv)
{
	const char *src = getenv("VRELAY_SRCDIR");
	/* fuzz-addr's inputs are in corpus/addr/ */
	const char *dir = strncmp(FUZZ_TARGET, "fuzz-", 5) ? FUZZ_TARGET : FUZZ_TARGET + 5;
	char dirs[2][4096];
	int failed = 0;

#ifdef FUZZ_SRCDIR
	if (!src || !*src)
		src = FUZZ_SRCDIR;
#endif
	if (!src || !*src)
		src = ".";
	signal(SIGABRT, on_abort);
#ifdef HAVE_SANITIZER
	__sanitizer_set_death_callback(report_crash);
#else
	/* with a sanitizer these are its own, to report */
	signal(SIGSEGV, on_abort);
	signal(SIGBUS, on_abort);
	signal(SIGFPE, on_abort);
	signal(SIGILL, on_abort);
#endif
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			int n = replay_dir(argv[i]);

			printf("%sok %d - %s: %d inputs of %s replayed\n", n < 0 ? "not " : "",
			       ++ntest, FUZZ_TARGET, n < 0 ? 0 : n, argv[i]);
			failed += n < 0;
		}
	} else {
		snprintf(dirs[0], sizeof(dirs[0]), "%s/tests/fuzz/corpus/%s", src, dir);
		snprintf(dirs[1], sizeof(dirs[1]), "%s/tests/fuzz/regress/%s", src, dir);
		for (int i = 0; i < 2; i++) {
			int n = replay_dir(dirs[i]);

			/* the corpus must be there; crash reproducers may not be */
			if (n < 0 && i == 0) {
				printf("not ok %d - %s: no corpus at %s\n", ++ntest, FUZZ_TARGET,
				       dirs[i]);
				failed++;
				continue;
			}
			printf("ok %d - %s: %d %s inputs replayed\n", ++ntest, FUZZ_TARGET,
			       n < 0 ? 0 : n, i ? "regression" : "corpus");
		}
	}
	printf("1..%d\n", ntest);
	return failed != 0;
}
