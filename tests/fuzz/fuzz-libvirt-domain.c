/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: vb_libvirt_domain_parse() (lib/libvirt-domain.h) on the bytes of a domain
 * XML, what libvirtd hands the libvirt hook on stdin and what `vfio-bind check` reads from
 * /etc/libvirt/qemu.
 *
 * Oracles: the result is 0, -EBADMSG (with a message that names the source), -EFBIG exactly when
 * the input is over VB_LIBVIRT_DOMAIN_XML_MAX, or -ENOMEM; -EBADMSG for an empty input; on
 * success a PCI host device's address is in range (slot 0-31, function 0-7), any other host
 * device says what it is, every device is described in words, there are no more host devices
 * than "<hostdev" and "<interface" in the input, and parsing again gives the same domain.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libvirt-domain.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t occurrences(const char *s, size_t n, const char *needle) {
        size_t k = 0, l = strlen(needle);

        for (const char *p = s; (p = memmem(p, n - (size_t) (p - s), needle, l)); p += l)
                k++;
        return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(vb_libvirt_domain_done) VbLibvirtDomain d = {}, again = {};
        _cleanup_free_ char *error = NULL, *error2 = NULL;
        const char *xml = (const char *) data;
        int r;

        if (size > VB_LIBVIRT_DOMAIN_XML_MAX + 1)
                return 0;
        r = vb_libvirt_domain_parse(xml, size, "fuzz", &d, &error);
        if (r == -ENOMEM)
                return 0;
        if (size > VB_LIBVIRT_DOMAIN_XML_MAX) {
                if (r != -EFBIG)
                        abort();
                return 0;
        }
        if (r == -EFBIG || (size == 0 && r != -EBADMSG))
                abort();
        if (r < 0) {
                if (r != -EBADMSG || !error || strncmp(error, "fuzz", 4) != 0 || d.n_hostdevs != 0 || d.name)
                        abort();
                return 0;
        }
        if (d.n_hostdevs > occurrences(xml, size, "<hostdev") + occurrences(xml, size, "<interface"))
                abort();
        for (size_t i = 0; i < d.n_hostdevs; i++) {
                const VbHostdev *h = &d.hostdevs[i];
                _cleanup_free_ char *w = vb_hostdev_describe(h);

                if (h->kind == VB_HOSTDEV_PCI && (h->address.slot > 31 || h->address.function > 7))
                        abort();
                if (h->kind == VB_HOSTDEV_OTHER && !h->what)
                        abort();
                if (h->kind != VB_HOSTDEV_PCI && h->kind != VB_HOSTDEV_OTHER)
                        abort();
                if (w && !*w)
                        abort();
        }
        r = vb_libvirt_domain_parse(xml, size, "fuzz", &again, &error2);
        if (r == -ENOMEM)
                return 0;
        if (r < 0 || again.n_hostdevs != d.n_hostdevs || !streq_ptr(again.name, d.name))
                abort();
        for (size_t i = 0; i < d.n_hostdevs; i++)
                if (again.hostdevs[i].kind != d.hostdevs[i].kind ||
                    again.hostdevs[i].managed != d.hostdevs[i].managed ||
                    !vb_pci_address_equal(&again.hostdevs[i].address, &d.hostdevs[i].address) ||
                    !streq_ptr(again.hostdevs[i].what, d.hostdevs[i].what))
                        abort();
        return 0;
}
