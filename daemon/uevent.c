/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "uevent.h"
#include "macro.h"

static const char *const action_table[_VBD_UEVENT_ACTION_MAX] = {
        [VBD_UEVENT_ADD] = "add",
        [VBD_UEVENT_BIND] = "bind",
        [VBD_UEVENT_REMOVE] = "remove",
};

const char *vbd_uevent_action_to_string(VbdUeventAction a) {
        return a >= 0 && a < _VBD_UEVENT_ACTION_MAX ? action_table[a] : NULL;
}

VbdUeventAction vbd_uevent_action_from_string(const char *s) {
        if (!s)
                return _VBD_UEVENT_ACTION_INVALID;
        for (int i = 0; i < _VBD_UEVENT_ACTION_MAX; i++)
                if (streq(action_table[i], s))
                        return i;
        return _VBD_UEVENT_ACTION_INVALID;
}

int vbd_uevent_parse(const char *action, const char *sysname, VbdUeventAction *ret_action, VbPciAddress *ret_address) {
        VbdUeventAction act;
        VbPciAddress a;

        act = vbd_uevent_action_from_string(action);
        if (act < 0)
                return 0;
        if (!sysname || vb_pci_address_parse(sysname, &a) < 0)
                return 0;
        *ret_action = act;
        *ret_address = a;
        return 1;
}
