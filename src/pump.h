/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_PUMP_H
#define VRELAY_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"
#include "loop.h"

enum pump_dump { DUMP_NONE, DUMP_TEXT, DUMP_HEX };

/**
 * struct pump_conf - how every pump of this process behaves (global flags)
 * @bufsize:	-b: pipe size for splice, buffer size otherwise
 * @linger:	-t: after one direction's EOF, end this long later
 * @idle:	-T: end after this long without traffic (0: never)
 * @only_dir:	-1 both ways; 0 left to right only (-u); 1 right to left (-U)
 * @dump:	-v / -x
 * @rawfd:	-r / -R: fd that gets a copy of each direction's bytes, or -1
 * @splice:	false forces the buffered path
 */
struct pump_conf {
	size_t bufsize;
	double linger;
	double idle;
	int only_dir;
	enum pump_dump dump;
	int rawfd[2];
	bool splice;
};

/* Something must see the bytes: no splice(2) then */
static inline bool pump_conf_inspects(const struct pump_conf *conf)
{
	return conf->dump != DUMP_NONE || conf->rawfd[0] >= 0 || conf->rawfd[1] >= 0;
}

/* What every pump of this process moved, for -S and SIGUSR1 */
struct pump_totals {
	uint64_t bytes[2];
	uint64_t started, finished, failed;
};
extern struct pump_totals pump_totals;

struct pump;
/* @status: 0 clean end, 1 runtime failure (already logged) */
typedef void (*pump_done_fn)(struct pump *p, int status, void *arg);

int pump_start(struct loop *loop, const struct pump_conf *conf,
	       struct endpoint *left, struct endpoint *right,
	       pump_done_fn done, void *arg);
void pump_stop_all(void);
void pump_release_pools(void);

#endif
