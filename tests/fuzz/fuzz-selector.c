/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the device selector parser. Any bytes (up to the first NUL) must either
 * parse, format to the canonical form and parse back to the same selector, or fail with
 * -EINVAL and an explanation that fits its buffer; both parsers must agree. An address selector's
 * canonical form is what vb_pci_address_format() gives, and vb_pci_address_parse() reads it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char error[VB_SELECTOR_ERROR_MAX], canonical[VB_SELECTOR_STRING_MAX];
        _cleanup_free_ char *s = NULL;
        const char *why = NULL;
        VbSelectorType kind;
        VbSelector a, b;
        int r, k;

        if (size > 4096)
                return 0;
        s = strndup((const char *) data, size);
        if (!s)
                return 0;

        memset(error, 'x', sizeof(error));
        r = vb_selector_parse_explain(s, &a, &kind, error, sizeof(error));
        k = vb_selector_parse(s, &b, &why);
        if ((r < 0) != (k < 0))
                abort();
        if (r < 0) {
                if (r != -EINVAL || k != -EINVAL || !why || !memchr(error, '\0', sizeof(error)))
                        abort();
                if (kind != _VB_SELECTOR_TYPE_INVALID && (kind < 0 || kind >= _VB_SELECTOR_TYPE_MAX))
                        abort();
                return 0;
        }
        if (!vb_selector_equal(&a, &b))
                abort();
        if (a.type < 0 || a.type >= _VB_SELECTOR_TYPE_MAX)
                abort();
        if (a.type != VB_SELECTOR_ID && (a.address.slot > 31 || a.address.function > 7))
                abort();
        /* Canonical form round trip. */
        vb_selector_format(&a, canonical);
        if (!memchr(canonical, '\0', sizeof(canonical)))
                abort();
        if (vb_selector_parse(canonical, &b, NULL) < 0 || !vb_selector_equal(&a, &b))
                abort();
        /* The canonical form of an address is the kernel's name of the device (any domain up to
         * ffffffff), which the strict parser reads back. */
        if (a.type == VB_SELECTOR_ADDRESS) {
                char name[VB_PCI_ADDRESS_MAX];
                VbPciAddress back;

                if (!streq(canonical, vb_pci_address_format(&a.address, name)) ||
                    vb_pci_address_parse(canonical, &back) < 0 || !vb_pci_address_equal(&back, &a.address))
                        abort();
        }
        return 0;
}
