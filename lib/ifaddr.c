/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "ifaddr.h"
#include "macro.h"

#define LINE_MAX_ 256

static unsigned prefix_length(const struct sockaddr *mask, int family) {
        const unsigned char *b;
        size_t n;
        unsigned bits = 0;

        if (!mask)
                return family == AF_INET ? 32 : 128;
        if (family == AF_INET) {
                b = (const unsigned char *) &((const struct sockaddr_in *) mask)->sin_addr;
                n = 4;
        } else {
                b = (const unsigned char *) &((const struct sockaddr_in6 *) mask)->sin6_addr;
                n = 16;
        }
        for (size_t i = 0; i < n; i++)
                bits += (unsigned) __builtin_popcount(b[i]);
        return bits;
}

int vb_ifaddr_read_system(char **ret) {
        struct ifaddrs *list = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (getifaddrs(&list) < 0)
                return negative_errno();
        f = open_memstream(&buf, &size);
        if (!f) {
                freeifaddrs(list);
                return -ENOMEM;
        }
        fputs("# interface addresses (getifaddrs): IFNAME ADDRESS/PREFIX\n", f);
        for (struct ifaddrs *i = list; i; i = i->ifa_next) {
                char text[INET6_ADDRSTRLEN];
                int family;
                const void *a;

                if (!i->ifa_addr || !i->ifa_name || strpbrk(i->ifa_name, " \t\n"))
                        continue;
                family = i->ifa_addr->sa_family;
                if (family == AF_INET)
                        a = &((const struct sockaddr_in *) (const void *) i->ifa_addr)->sin_addr;
                else if (family == AF_INET6)
                        a = &((const struct sockaddr_in6 *) (const void *) i->ifa_addr)->sin6_addr;
                else
                        continue;
                if (!inet_ntop(family, a, text, sizeof(text)))
                        continue;
                fprintf(f, "%s %s/%u\n", i->ifa_name, text, prefix_length(i->ifa_netmask, family));
        }
        freeifaddrs(list);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

bool vb_ifaddr_is_global(const char *address) {
        unsigned char b[16];

        if (inet_pton(AF_INET, address, b) == 1)
                return b[0] != 127 && b[0] != 0 && !(b[0] == 169 && b[1] == 254);
        if (inet_pton(AF_INET6, address, b) == 1) {
                static const unsigned char zero[16], loopback[16] = { [15] = 1 };

                if (memcmp(b, zero, 16) == 0 || memcmp(b, loopback, 16) == 0)
                        return false;
                if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
                        return false;
                if (b[0] == 0xff) /* multicast */
                        return false;
                /* An IPv4-mapped address (::ffff:a.b.c.d) as IPv4. */
                if (memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff)
                        return b[12] != 127 && b[12] != 0 && !(b[12] == 169 && b[13] == 254);
                return true;
        }
        return false;
}

int vb_ifaddr_find_global(const char *text, const char *name, int family, char **ret) {
        for (const char *p = text; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                size_t len = (size_t) (eol - p);
                char line[LINE_MAX_], ifname[IF_NAMESIZE * 2], addr[INET6_ADDRSTRLEN + 8];
                unsigned char b[16];
                char *slash;

                if (len < sizeof(line) && *p != '#') {
                        memcpy(line, p, len);
                        line[len] = '\0';
                        if (sscanf(line, "%31s %53s", ifname, addr) == 2 && streq(ifname, name)) {
                                slash = strchr(addr, '/');
                                if (slash)
                                        *slash = '\0';
                                if (inet_pton(family, addr, b) == 1 && vb_ifaddr_is_global(addr)) {
                                        if (slash)
                                                *slash = '/';
                                        *ret = strdup(addr);
                                        return *ret ? 1 : -ENOMEM;
                                }
                        }
                }
                p = *eol ? eol + 1 : NULL;
        }
        return 0;
}
