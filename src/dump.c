/* SPDX-License-Identifier: MIT */
/*
 * dump.c - traffic dumps (-v text, -x hex) and raw copies (-r, -R)
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "dump.h"
#include "log.h"

void dump_traffic(const struct pump_conf *conf, int dir, uint64_t offset,
		  const void *buf, size_t n)
{
	const unsigned char *data = buf;
	char line[160], ts[32];
	struct timeval tv;
	struct tm tm;
	size_t len;

	if (conf->dump == DUMP_NONE)
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y/%m/%d %H:%M:%S", &tm);
	len = (size_t)snprintf(line, sizeof(line), "%c %s.%06ld  length=%zu from=%llu to=%llu\n",
			       dir == 0 ? '>' : '<', ts, (long)tv.tv_usec, n,
			       (unsigned long long)offset,
			       (unsigned long long)(offset + n - 1));
	log_raw(line, len);
	if (conf->dump == DUMP_HEX) {
		for (size_t i = 0; i < n; i += 16) {
			size_t m = n - i < 16 ? n - i : 16, k = 0;

			for (size_t j = 0; j < 16; j++)
				k += (size_t)snprintf(line + k, sizeof(line) - k, j < m ? " %02x" : "   ",
						      data[i + j < n ? i + j : 0]);
			k += (size_t)snprintf(line + k, sizeof(line) - k, "  ");
			for (size_t j = 0; j < m; j++)
				line[k++] = isprint(data[i + j]) ? (char)data[i + j] : '.';
			line[k++] = '\n';
			log_raw(line, k);
		}
		return;
	}
	/* text: printable bytes and newlines as they are, others as \xNN */
	len = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = data[i];

		if (len > sizeof(line) - 8) {
			log_raw(line, len);
			len = 0;
		}
		if (isprint(c) || c == '\n' || c == '\t')
			line[len++] = (char)c;
		else
			len += (size_t)snprintf(line + len, sizeof(line) - len, "\\x%02x", c);
	}
	if (n && data[n - 1] != '\n')
		line[len++] = '\n';
	log_raw(line, len);
}
