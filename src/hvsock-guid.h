/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_HVSOCK_GUID_H
#define VRELAY_HVSOCK_GUID_H

#include <stdbool.h>
#include <stdint.h>

/* A GUID as Windows lays it out: three little-endian fields and 8 bytes */
struct hv_guid {
	uint32_t data1;
	uint16_t data2, data3;
	uint8_t data4[8];
};

#define HV_GUID_STRLEN 37	/* 8-4-4-4-12 and the NUL */

int hv_guid_parse(const char *text, struct hv_guid *g);
void hv_guid_format(const struct hv_guid *g, char out[HV_GUID_STRLEN]);
bool hv_guid_equal(const struct hv_guid *a, const struct hv_guid *b);

/* The well-known VmIds by name: wildcard, children, loopback, parent */
int hv_vmid_by_name(const char *name, struct hv_guid *g);
const char *hv_vmid_name(const struct hv_guid *g);

/* Service GUIDs of the form XXXXXXXX-FACB-11E6-BD58-64006A7986D3 are vsock
 * port XXXXXXXX */
bool hv_service_to_port(const struct hv_guid *g, uint32_t *port);
void hv_service_from_port(uint32_t port, struct hv_guid *g);

#endif
