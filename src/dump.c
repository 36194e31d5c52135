/* SPDX-License-Identifier: MIT */
/*
 * dump.c - traffic dumps (-v text, -x hex) and raw copies (-r, -R)
 *
 * DOC: What the user sees
 *
 * A dump is one record per chunk the pump read (or per frame a frame relay
 * moved), on the log stream (stderr, or -lf FILE):
 *
 *	> 2026/11/21 16:06:20.123456  length=5 from=0 to=4
 *	hello
 *
 * '>' is left to right, '<' right to left; from= and to= are the offsets
 * of the chunk's first and last byte in that direction's stream, counted
 * from 0.  A frame's header says "frame=N" (the Nth frame that way)
 * instead.  -v shows the bytes as text, with everything that is not
 * printable ASCII, a newline or a tab as \xNN; -x as hex lines of 16 bytes
 * with the printable ones beside them.
 *
 * -r FILE and -R FILE get each direction's bytes exactly, nothing added:
 * what was read is what the file holds.  A frame relay has no byte stream
 * whose boundaries survive a plain copy, so there the files are pcap
 * captures (Ethernet link type, one record per frame), which tcpdump -r
 * and wireshark read (pcap.c writes them).
 *
 * The files are opened with O_APPEND, and each write is one write(2) or
 * writev(2) of a whole chunk or record: fork children append to the same
 * file without overwriting each other.  A failed write stops that copy, with
 * one warning; the relay goes on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"
#include "log.h"
#include "pcap.h"
#include "util.h"


/* Per process: the raw copies' names for messages, and whether a write
 * failed (then that copy stops) */
static struct {
	const char *path;
	bool pcap;
	bool failed;
} raw[2];

static const char *raw_opt(int dir)
{
	return dir == 0 ? "-r" : "-R";
}

/* The relay matters more than its copy: say so once, go on */
static void raw_failed(int dir, int err)
{
	raw[dir].failed = true;
	log_warn("%s %s: write: %s: no more copies to this file", raw_opt(dir),
		 raw[dir].path ? raw[dir].path : "?", strerror(-err));
}

/**
 * dump_raw_open() - open the file of -r (@dir 0) or -R (@dir 1)
 * @pcap:	a frame relay: write a pcap file header, then records
 * Return: the fd, or a negative errno
 */
int dump_raw_open(int dir, const char *path, bool pcap)
{
	/* O_APPEND: fork children write to the same file; each record is
	 * one write at the end, never over another's */
	int fd = pcap ? pcap_open(path, true)
		      : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return pcap ? fd : -errno;
	raw[dir].path = path;
	raw[dir].pcap = pcap;
	raw[dir].failed = false;
	return fd;
}

/* "> 2026/11/21 16:06:20.123456  length=5 " and then @what */
static void dump_header(int dir, const struct timeval *tv, size_t n, const char *what)
{
	char line[160], ts[32];
	struct tm tm;
	int len;

	if (!localtime_r(&tv->tv_sec, &tm) || !strftime(ts, sizeof(ts), "%Y/%m/%d %H:%M:%S", &tm))
		ts[0] = '\0';	/* ts is undefined after a failed strftime() */
	len = snprintf(line, sizeof(line), "%c %s.%06ld  length=%zu %s\n", dir == 0 ? '>' : '<',
		       ts, (long)tv->tv_usec, n, what);
	if (len > 0)
		log_raw(line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
}

/* Not the locale's isprint(): READLINE may set a UTF-8 locale, and a dump
 * must look the same whatever the terminal */
static bool printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

static void dump_hex(const unsigned char *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char line[80];

	for (size_t i = 0; i < n; i += 16) {
		size_t m = n - i, k = 0;

		if (m > 16)
			m = 16;

		for (size_t j = 0; j < 16; j++) {
			line[k++] = ' ';
			line[k++] = j < m ? digits[data[i + j] >> 4] : ' ';
			line[k++] = j < m ? digits[data[i + j] & 15] : ' ';
		}
		line[k++] = ' ';
		line[k++] = ' ';
		for (size_t j = 0; j < m; j++)
			line[k++] = printable(data[i + j]) ? (char)data[i + j] : '.';
		line[k++] = '\n';
		log_raw(line, k);
	}
}

/* Printable bytes, newlines and tabs as they are, others as \xNN */
static void dump_text(const unsigned char *data, size_t n)
{
	char line[160];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = data[i];

		if (len > sizeof(line) - 8) {
			log_raw(line, len);
			len = 0;
		}
		if (printable(c) || c == '\n' || c == '\t')
			line[len++] = (char)c;
		else
			len += (size_t)snprintf(line + len, sizeof(line) - len, "\\x%02x", c);
	}
	/* the next header starts on a line of its own */
	if (n && data[n - 1] != '\n')
		line[len++] = '\n';
	log_raw(line, len);
}

static void dump_body(const struct pump_conf *conf, const void *data, size_t n)
{
	if (conf->dump == DUMP_HEX)
		dump_hex(data, n);
	else
		dump_text(data, n);
}

/**
 * dump_traffic() - a chunk of a byte relay: its -v/-x record and its -r/-R copy
 */
void dump_traffic(const struct pump_conf *conf, int dir, uint64_t offset,
		  const void *data, size_t n)
{
	if (n == 0)
		return;
	if (conf->dump != DUMP_NONE) {
		struct timeval tv;
		char what[64];

		gettimeofday(&tv, NULL);
		snprintf(what, sizeof(what), "from=%llu to=%llu", (unsigned long long)offset,
			 (unsigned long long)(offset + n - 1));
		dump_header(dir, &tv, n, what);
		dump_body(conf, data, n);
	}
	if (conf->rawfd[dir] >= 0 && !raw[dir].failed) {
		int rc = util_write_all(conf->rawfd[dir], data, n);

		if (rc < 0)
			raw_failed(dir, rc);
	}
}

/**
 * dump_frame() - a frame a frame relay moved: its -v/-x record and its
 *		  pcap record in the -r/-R file
 * @seq:	which frame this is in direction @dir, from 1
 */
void dump_frame(const struct pump_conf *conf, int dir, uint64_t seq,
		const void *data, size_t n)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	if (conf->dump != DUMP_NONE) {
		char what[48];

		snprintf(what, sizeof(what), "frame=%llu", (unsigned long long)seq);
		dump_header(dir, &tv, n, what);
		dump_body(conf, data, n);
	}
	if (conf->rawfd[dir] >= 0 && !raw[dir].failed) {
		int rc;

		if (!raw[dir].pcap) {
			/* main.c opened a plain file: frames would run together */
			log_warn("%s %s: not opened as a pcap file: no frames copied",
				 raw_opt(dir), raw[dir].path ? raw[dir].path : "?");
			raw[dir].failed = true;
			return;
		}
		rc = pcap_write(conf->rawfd[dir], data, n);
		if (rc < 0)
			raw_failed(dir, rc);
	}
}
