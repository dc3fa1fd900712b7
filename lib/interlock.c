/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "interlock.h"
#include "macro.h"
#include "strv.h"

/* ---- console ---- */

int vb_interlock_add_console(const VbConsoleState *console, const VbPciList *devices, VbHolds *h) {
        _cleanup_free_ char *held = NULL;

        if (!console || !vb_console_is_held(console))
                return 0;

        if (console->fbcon_between && !(held = strdup("the framebuffer console, between two framebuffers")))
                return -ENOMEM;
        for (size_t i = 0; i < console->n_vtconsoles; i++) {
                const VbVtconsole *v = &console->vtconsoles[i];

                if (!v->framebuffer || !v->bound)
                        continue;
                if (vb_join_append(&held, ", ", "vtcon%u", v->index) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < console->n_framebuffers; i++) {
                const VbFramebuffer *fb = &console->framebuffers[i];

                if (!fb->driver)
                        continue;
                if (vb_join_append(&held, ", ", "%s", fb->name) < 0)
                        return -ENOMEM;
        }

        for (size_t i = 0; i < devices->n; i++) {
                const VbPciDevice *d = &devices->devices[i];
                _cleanup_free_ char *what = NULL;
                const char *why = NULL;
                int r;

                if (!vb_console_owned_by(console, d, &why))
                        continue;
                if (asprintf(&what, "the console in use (%s) is on it: %s", strna(held), strna(why)) < 0)
                        return -ENOMEM;
                r = vb_holds_add(h, &d->address, VB_HOLD_CONSOLE, what);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vb_interlock_read(VbContext *ctx, const VbConsoleState *console, const VbPciList *devices, VbHolds *ret) {
        int r, first = 0;

        *ret = (VbHolds) {};
        r = vb_interlock_add_console(console, devices, ret);
        if (r < 0)
                return r;
        /* One source that cannot be read must not hide the others. */
        r = vb_interlock_read_storage(ctx, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                vb_debug(ctx, "cannot tell which storage the host uses: %s", strerror(-r));
                first = r;
        }
        r = vb_interlock_read_network(ctx, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                vb_debug(ctx, "cannot tell which network interfaces the host uses: %s", strerror(-r));
                if (first == 0)
                        first = r;
        }
        r = vb_interlock_read_processes(ctx, devices, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                vb_debug(ctx, "cannot tell which processes hold devices: %s", strerror(-r));
                if (first == 0)
                        first = r;
        }
        return first;
}
