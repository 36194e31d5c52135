/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_DUMP_H
#define VRELAY_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pump.h"

/*
 * What -v/-x (dumps to the log) and -r/-R (raw copies to files) show of
 * what a pump moves.  @dir is 0 for left to right ('>'), 1 for right to
 * left ('<').
 */
int dump_raw_open(int dir, const char *path, bool pcap);
/* @offset: where @data starts in that direction's stream */
void dump_traffic(const struct pump_conf *conf, int dir, uint64_t offset,
		  const void *data, size_t n);
/* @seq: the frame's number in that direction, from 1 */
void dump_frame(const struct pump_conf *conf, int dir, uint64_t seq,
		const void *data, size_t n);

#endif
