/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "machine.h"
#include <stdio.h>

#include "tree.h"

void machine_open(Machine *m, const char *case_name, const char *extra_conf) {
        *m = (Machine) {};
        ASSERT_OK(tree_new(case_name, &m->dir));
        if (extra_conf)
                ASSERT_OK(tree_append(m->dir, "fake-kernel.conf", extra_conf));
        ASSERT_OK(fake_kernel_new(&m->k, m->dir));
        ASSERT_OK(fake_kernel_new_context(m->k, &m->ctx));
}

void machine_close(Machine *m) {
        ASSERT_EQ(fake_kernel_n_violations(m->k), 0);
        vb_context_free(m->ctx);
        fake_kernel_free(m->k);
        tree_free(m->dir);
}

VbPciAddress machine_addr(const char *s) {
        VbPciAddress a;
        ASSERT_OK(vb_pci_address_parse(s, &a));
        return a;
}

void machine_xorg_holds_card(Machine *m, const char *unit) {
        _cleanup_free_ char *cgroup = NULL;

        ASSERT_TRUE(asprintf(&cgroup, "0::/system.slice/%s", unit) > 0);
        ASSERT_OK(tree_write_new(m->dir, "sys/bus/pci/devices/0000:01:00.0/drm/card0/uevent", "DEVNAME=dri/card0\n"));
        ASSERT_OK(tree_write_new(m->dir, "proc/812/comm", "Xorg"));
        ASSERT_OK(tree_write_new(m->dir, "proc/812/cgroup", cgroup));
        ASSERT_OK(tree_mkdirs(m->dir, "proc/812/fd"));
        ASSERT_OK(tree_symlink(m->dir, "/dev/dri/card0", "proc/812/fd/5"));
}
