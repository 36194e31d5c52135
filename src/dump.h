/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_DUMP_H
#define VRELAY_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "pump.h"

/*
 * What -v/-x (dumps to the log) and -r/-R (raw copies to files) show of
 * the bytes a pump moves.  @dir is 0 for left to right ('>'), 1 for right
 * to left ('<'); @offset is where @data starts in that direction's stream.
 */
void dump_traffic(const struct pump_conf *conf, int dir, uint64_t offset,
		  const void *data, size_t n);

#endif
