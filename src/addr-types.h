/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_ADDR_TYPES_H
#define VRELAY_ADDR_TYPES_H

#include "addr.h"

/* One descriptor per address type, defined in its family's addr-*.c and
 * listed once in addr-table.c */
extern const struct addr_type addr_stdio, addr_stdin, addr_stdout, addr_fd;
extern const struct addr_type addr_exec, addr_system;
extern const struct addr_type addr_tcp_connect, addr_tcp4_connect, addr_tcp6_connect;
extern const struct addr_type addr_tcp_listen, addr_tcp4_listen, addr_tcp6_listen;
extern const struct addr_type addr_unix_connect, addr_unix_listen;
extern const struct addr_type addr_abstract_connect, addr_abstract_listen;
extern const struct addr_type addr_accept_fd;
extern const struct addr_type addr_vsock_connect, addr_vsock_listen;
extern const struct addr_type addr_vsock_mux, addr_vsock_mux_listen;
extern const struct addr_type addr_hyperkit_unix, addr_hyperkit_unix_listen;
extern const struct addr_type addr_hvsock_connect, addr_hvsock_listen;
extern const struct addr_type addr_unix_seqpacket, addr_unix_seqpacket_listen;
extern const struct addr_type addr_unix_sendto, addr_unix_recvfrom;
extern const struct addr_type addr_tap;
extern const struct addr_type addr_openssl_connect, addr_openssl_listen;
extern const struct addr_type addr_readline;
extern const struct addr_type addr_nat;

/* -4 / -6: the family TCP and TCP-LISTEN use when the type doesn't say */
extern int addr_default_family;

#endif
