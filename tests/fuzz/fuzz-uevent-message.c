/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a kernel uevent as the daemon's monitor receives it. The input is the
 * netlink message the kernel sends ("ACTION@DEVPATH", NUL, then KEY=VALUE fields each ended by
 * NUL); it is taken apart as libudev does (sd-device: the properties from the fields; the
 * monitor's "pci" subsystem filter; the sysname is the last component of DEVPATH with '!' read
 * as '/'), and handed to vbd_uevent_parse() as udev_device_get_action() and
 * udev_device_get_sysname() would. Oracles: a uevent taken is an add, bind or remove whose
 * action is ACTION=, for the PCI function the sysname names, canonically formatted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "uevent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *msg = NULL, *sysname = NULL;
        const char *action = NULL, *devpath = NULL, *subsystem = NULL, *header_end, *slash;
        VbdUeventAction act;
        VbPciAddress a, again;
        int r;

        if (size > 8192) /* UEVENT_BUFFER_SIZE is 2048 */
                return 0;
        msg = malloc(size + 1);
        if (!msg)
                return 0;
        memcpy(msg, data, size);
        msg[size] = '\0';

        /* The header "ACTION@DEVPATH", then the fields. */
        header_end = memchr(msg, '\0', size);
        if (!header_end || !strchr(msg, '@'))
                return 0;
        for (const char *p = header_end + 1; p < msg + size; p += strlen(p) + 1) {
                const char *v;
                if ((v = startswith(p, "ACTION=")))
                        action = v;
                else if ((v = startswith(p, "DEVPATH=")))
                        devpath = v;
                else if ((v = startswith(p, "SUBSYSTEM=")))
                        subsystem = v;
        }
        /* sd-device refuses a message without these; the monitor passes only "pci". */
        if (!action || !devpath || !subsystem || !streq(subsystem, "pci") || devpath[0] != '/')
                return 0;
        slash = strrchr(devpath, '/');
        sysname = strdup(slash + 1);
        if (!sysname)
                return 0;
        for (char *c = sysname; *c; c++)
                if (*c == '!')
                        *c = '/';

        r = vbd_uevent_parse(action, *sysname ? sysname : NULL, &act, &a);
        if (r < 0 || r > 1)
                abort();
        if (r == 0) {
                /* Ignored: it must not have been one to take. */
                if (vbd_uevent_action_from_string(action) >= 0 && vb_pci_address_parse(sysname, &again) >= 0)
                        abort();
                return 0;
        }
        if (!streq_ptr(vbd_uevent_action_to_string(act), action))
                abort();
        if (vb_pci_address_parse(sysname, &again) < 0 || !vb_pci_address_equal(&a, &again))
                abort();
        if (vb_pci_address_parse(VB_PCI_ADDRESS_STR(&a), &again) < 0 || !vb_pci_address_equal(&a, &again))
                abort();
        return 0;
}
