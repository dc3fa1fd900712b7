/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network interlock: interfaces that are up and have an address, walked to their PCI
 * devices, through the interfaces they are stacked on. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ifaddr.h"
#include "interlock-network.h"
#include "macro.h"
#include "sysfs-link.h"
#include "sysfs.h"

/* Network interfaces stack too (VLAN on a bond on NICs). */
#define NET_DEPTH_MAX 8
/* Interface names are at most 15 bytes (IFNAMSIZ 16); read a little more and compare. */
#define IFNAME_MAX 32
#define IFNAME_SCAN "%31s"

/* IPv6 addresses per interface from /proc/net/if_inet6, without link-local and host scope:
 * "fe800000000000000000000000000001 02 40 20 80 eth0" (address, index, prefix, scope, flags,
 * name). Returns 1 and the first address (formatted) if NAME has one. */
static int inet6_address(const char *if_inet6, const char *name, char **ret) {
        const char *p = if_inet6;

        while (p && *p) {
                const char *eol = strchrnul(p, '\n');
                char addr[33], ifname[IFNAME_MAX];
                unsigned idx, plen, scope, flags;

                if (sscanf(p, "%32s %x %x %x %x " IFNAME_SCAN, addr, &idx, &plen, &scope, &flags, ifname) == 6 &&
                    streq(ifname, name) && strlen(addr) == 32 && scope != 0x20 && scope != 0x10) {
                        unsigned char bytes[16];
                        char out[INET6_ADDRSTRLEN];
                        bool ok = true;

                        for (int i = 0; i < 16 && ok; i++) {
                                unsigned b = 0;
                                ok = sscanf(addr + 2 * i, "%2x", &b) == 1;
                                bytes[i] = (unsigned char) b;
                        }
                        if (!ok || !inet_ntop(AF_INET6, bytes, out, sizeof(out)))
                                snprintf(out, sizeof(out), "%s", addr);
                        if (asprintf(ret, "%s/%u", out, plen) < 0)
                                return -ENOMEM;
                        return 1;
                }
                p = *eol ? eol + 1 : NULL;
        }
        return 0;
}

static int inet4_route_pass(const char *route, const char *name, bool subnet_only, char **ret) {
        const char *p = route;
        bool header = true;

        while (p && *p) {
                const char *eol = strchrnul(p, '\n');
                char ifname[IFNAME_MAX];
                unsigned dest, gw, flags, refcnt, use, metric, mask;

                if (header)
                        header = false;
                else if (sscanf(p, IFNAME_SCAN " %x %x %x %u %u %u %x", ifname, &dest, &gw, &flags, &refcnt, &use,
                                &metric, &mask) == 8 &&
                         streq(ifname, name) && (!subnet_only || mask != 0)) {
                        const unsigned char *d = (const unsigned char *) &dest;
                        unsigned bits = (unsigned) __builtin_popcount(mask);

                        if (asprintf(ret, "%u.%u.%u.%u/%u", d[0], d[1], d[2], d[3], bits) < 0)
                                return -ENOMEM;
                        return 1;
                }
                p = *eol ? eol + 1 : NULL;
        }
        return 0;
}

/* An IPv4 route through NAME from /proc/net/route ("Iface Destination Gateway Flags RefCnt Use
 * Metric Mask …", the address as the kernel holds it, printed in hex): an interface with an IPv4
 * address has at least the route of its subnet. Returns 1 and a route as "10.0.2.0/24" if NAME
 * has one, preferring a subnet to the default route. */
static int inet4_route(const char *route, const char *name, char **ret) {
        int r = inet4_route_pass(route, name, true, ret);
        return r != 0 ? r : inet4_route_pass(route, name, false, ret);
}

/* Hold the PCI device of interface NAME, or of the interfaces it is stacked on (lower_*). */
static int net_hold(VbContext *ctx, VbHolds *h, const char *name, const char *text, unsigned depth) {
        _cleanup_free_ char *path = NULL, *link = NULL;
        _cleanup_strv_free_ char **entries = NULL;
        VbPciAddress a;
        int r;

        if (depth > NET_DEPTH_MAX || !vb_sysfs_link_name_is_safe(name))
                return 0;
        if (asprintf(&path, "class/net/%s", name) < 0)
                return -ENOMEM;
        r = vb_sysfs_readlink(ctx, path, &link);
        if (r == -ENOENT || r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        if (vb_sysfs_link_pci_ancestor(link, &a)) {
                VbPciAddress host;

                r = vb_holds_add(h, &a, VB_HOLD_NETWORK, text);
                /* Behind a VMD controller: the controller takes the interface with it. */
                if (r >= 0 && vb_sysfs_link_bus_host(link, &host))
                        r = vb_holds_add(h, &host, VB_HOLD_NETWORK, text);
                return r;
        }

        r = vb_sysfs_list(ctx, path, &entries);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        for (char **e = entries; *e; e++) {
                if (!strneq(*e, "lower_", 6))
                        continue;
                r = net_hold(ctx, h, *e + 6, text, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vb_interlock_read_network(VbContext *ctx, VbHolds *h) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *addresses = NULL, *if_inet6 = NULL, *route = NULL;
        int r;

        r = vb_sysfs_list(ctx, "class/net", &names);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* The addresses themselves (getifaddrs(), or a dump's ifaddrs): whatever table routes them.
         * Without them (a fake tree, an older dump): IPv6 addresses from if_inet6 and the IPv4
         * routes of the main table, which miss an address routed elsewhere. */
        r = vb_context_read_addresses(ctx, &addresses);
        if (r < 0 && r != -ENOENT)
                return r;
        if (!addresses) {
                r = vb_procfs_read(ctx, "net/if_inet6", &if_inet6);
                if (r < 0 && r != -ENOENT)
                        return r;
                r = vb_procfs_read(ctx, "net/route", &route);
                if (r < 0 && r != -ENOENT)
                        return r;
        }

        for (char **n = names; *n; n++) {
                _cleanup_free_ char *flags_path = NULL, *addr6 = NULL, *addr4 = NULL, *what = NULL;
                uint32_t flags = 0;

                if (!vb_sysfs_link_name_is_safe(*n))
                        continue;
                if (asprintf(&flags_path, "class/net/%s/flags", *n) < 0)
                        return -ENOMEM;
                if (vb_sysfs_read_u32(ctx, flags_path, &flags) < 0 || !(flags & 0x1 /* IFF_UP */))
                        continue;
                if (addresses) {
                        r = vb_ifaddr_find_global(addresses, *n, AF_INET, &addr4);
                        if (r >= 0)
                                r = vb_ifaddr_find_global(addresses, *n, AF_INET6, &addr6);
                        if (r < 0)
                                return r;
                } else {
                        r = if_inet6 ? inet6_address(if_inet6, *n, &addr6) : 0;
                        if (r < 0)
                                return r;
                        r = route ? inet4_route(route, *n, &addr4) : 0;
                        if (r < 0)
                                return r;
                }
                if (!addr6 && !addr4)
                        continue;
                if (asprintf(&what, "network interface %s is up with %s%s%s", *n, strempty(addr4),
                             addr4 && addr6 ? " and " : "", strempty(addr6)) < 0)
                        return -ENOMEM;
                r = net_hold(ctx, h, *n, what, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}
