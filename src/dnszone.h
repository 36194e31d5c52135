/* SPDX-License-Identifier: MIT */
/*
 * dnszone.h - static DNS zones (dns-zone=ZONE/NAME=IP...), answered before
 *	       a query reaches the resolver
 */
#ifndef VRELAY_DNSZONE_H
#define VRELAY_DNSZONE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define DNSZONE_TTL	60	/* seconds, in every answer */

struct dnszone_set;

int dnszone_add(struct dnszone_set **set, const char *spec, struct errbuf *err);
void dnszone_free(struct dnszone_set *set);
size_t dnszone_answer(const struct dnszone_set *set, const uint8_t *q, size_t qlen, uint8_t *out,
		      size_t cap);

#endif
