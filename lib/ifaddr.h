/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A machine's interface addresses as text, one "IFNAME ADDRESS/PREFIX" a line ("eth0
 * 192.0.2.10/24", "eth0 fe80::1/64"): written from getifaddrs() on the real machine (every
 * address, whatever routing table, VRF or noprefixroute), kept in a dump as "ifaddrs", and read
 * back by the network interlock. Pure text functions, and the one call to getifaddrs().
 */

#include <stdbool.h>

/* The real machine's addresses (getifaddrs()) as text. Returns 0 or a negative errno. */
int vb_ifaddr_read_system(char **ret);

/* Is ADDRESS (without the prefix) one that marks an interface in use: global or site scope,
 * not loopback, not link-local (IPv4 169.254/16, IPv6 fe80::/10), not unspecified. false for
 * text that is no address. */
bool vb_ifaddr_is_global(const char *address);

/* The first address of interface NAME in TEXT of family AF_INET or AF_INET6 that
 * vb_ifaddr_is_global() accepts, as written ("192.0.2.10/24"). Returns 1 and *RET, 0 if there is
 * none, or -ENOMEM. Lines that do not parse are skipped. */
int vb_ifaddr_find_global(const char *text, const char *name, int family, char **ret);
