/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a PCI device's uevent file (PCI_ID=, PCI_CLASS=, DRIVER=) by the pure parser
 * vb_pci_uevent_parse() that vb_pci_device_read_identity() calls on the file's text; the input
 * is the file, cut at its first NUL byte as the reader cuts it (fuzz-text.h). Oracles: without
 * a PCI_ID= or a PCI_CLASS= the parser says -ENODATA (the reader then falls back to the vendor,
 * device and class attributes and the driver link: tests/test-pci.c,
 * uevent_without_identity_falls_back and uevent_stops_at_nul); an identity taken has a 24-bit
 * class, and every PCI_ID= line is one the daemon's uevent filter accepts (one parser,
 * vb_pci_id_parse()), the last giving the identity; the driver is the last non-empty DRIVER= line's
 * value, or none.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-text.h"
#include "macro.h"
#include "pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of the last line "DRIVER=…" with a value, or NULL. */
static char *last_driver(const char *text) {
        const char *found = NULL;
        size_t found_len = 0;

        for (const char *p = text; *p;) {
                const char *nl = strchrnul(p, '\n');

                if ((size_t) (nl - p) > strlen("DRIVER=") && strneq(p, "DRIVER=", strlen("DRIVER="))) {
                        found = p + strlen("DRIVER=");
                        found_len = (size_t) (nl - found);
                }
                p = *nl ? nl + 1 : nl;
        }
        return found ? strndup(found, found_len) : NULL;
}

/* Every PCI_ID= line's value is what the daemon's uevent filter accepts (vb_pci_id_parse(), the
 * one parser of both), and the last gives the identity. */
static bool ids_as_the_filter_reads_them(const char *text, uint16_t vendor, uint16_t device) {
        bool any = false;
        uint16_t v = 0, d = 0;

        for (const char *p = text; *p;) {
                const char *nl = strchrnul(p, '\n');

                if ((size_t) (nl - p) >= strlen("PCI_ID=") && strneq(p, "PCI_ID=", strlen("PCI_ID="))) {
                        _cleanup_free_ char *value = strndup(p + strlen("PCI_ID="),
                                                             (size_t) (nl - p) - strlen("PCI_ID="));
                        if (!value || vb_pci_id_parse(value, &v, &d) < 0)
                                return false;
                        any = true;
                }
                p = *nl ? nl + 1 : nl;
        }
        return any && v == vendor && d == device;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL, *driver = NULL, *expected = NULL;
        uint16_t vendor = 1, device = 2;
        uint32_t class = 3;
        int r;

        if (size > 65536)
                return 0;
        text = fuzz_text_as_read(data, size);
        if (!text)
                return 0;

        r = vb_pci_uevent_parse(text, &vendor, &device, &class, &driver);
        if (r == -ENOMEM)
                return 0;
        if (r == -ENODATA) {
                if (vendor != 1 || device != 2 || class != 3 || driver)
                        abort(); /* written only on success */
                return 0;
        }
        if (r != 0)
                abort();
        if (!strstr(text, "PCI_ID=") || !strstr(text, "PCI_CLASS="))
                abort(); /* an identity from nowhere: the attributes would have been read */
        if (class > 0xffffff)
                abort();
        if (!ids_as_the_filter_reads_them(text, vendor, device))
                abort(); /* the uevent filter would read this device's identity otherwise */
        if (driver && (!driver[0] || strchr(driver, '\n')))
                abort();
        expected = last_driver(text);
        if (!streq_ptr(driver, expected))
                abort();
        return 0;
}
