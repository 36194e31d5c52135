/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_RELAY_H
#define VRELAY_RELAY_H

#include <stdbool.h>

#include "addr.h"
#include "pump.h"

/**
 * struct relay_conf - the global options of one "vrelay A B"
 * @pump:	what every pump does (-b -t -T -u -U -v -x)
 * @stats:	-S: statistics at the end (SIGUSR1 prints them any time)
 */
struct relay_conf {
	struct pump_conf pump;
	bool stats;
};

void relay_conf_defaults(struct relay_conf *conf);
int relay_run(const struct relay_conf *conf, struct addr_spec *left, struct addr_spec *right);

#endif
