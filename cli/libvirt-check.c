/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libvirt-check.h"
#include "libvirt-domain.h"
#include "macro.h"
#include "plan.h"
#include "strv.h"

/* libvirt's configuration directory for QEMU domains and its hook directory: Debian's and most
 * distributions' (libvirt built with sysconfdir /etc), and NixOS's (sysconfdir /var/lib). */
static const struct {
        const char *domains;
        const char *hook;
} libvirt_dirs[] = {
        { "/etc/libvirt/qemu", "/etc/libvirt/hooks/qemu.d/vfio-bind" },
        { "/var/lib/libvirt/qemu", "/var/lib/libvirt/hooks/qemu.d/vfio-bind" },
};

static char *below(const char *root, const char *path) {
        char *s;

        if (asprintf(&s, "%s%s", strempty(root), path) < 0)
                return NULL;
        return s;
}

static bool held_at_boot(const VbSnapshot *s, const VbPciAddress *a) {
        const VbPlanEntry *e = vb_plan_find(&s->plan, a);

        return e && (e->action == VB_ACTION_BIND || e->action == VB_ACTION_LEAVE);
}

/* The warnings of one domain file PATH (named NAME in messages). */
static int check_domain(const char *path, const char *name, const VbSnapshot *s, bool hook_installed, const char *hook,
                        char ***w, size_t *n) {
        _cleanup_(vb_libvirt_domain_done) VbLibvirtDomain d = {};
        _cleanup_free_ char *error = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return strv_extend_printf(w, n, "%s cannot be read: %s", name, strerror(errno));
        r = vb_libvirt_domain_read_fd(fd, name, &d, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return strv_extend_printf(w, n, "libvirt domain %s", error ?: strerror(-r));

        for (size_t i = 0; i < d.n_hostdevs; i++) {
                const VbHostdev *h = &d.hostdevs[i];
                const char *a = VB_PCI_ADDRESS_STR(&h->address);

                if (h->kind != VB_HOSTDEV_PCI || held_at_boot(s, &h->address))
                        continue;
                if (h->managed)
                        r = strv_extend_printf(
                                w, n,
                                "%s: libvirt domain %s (%s:%u) passes it with managed='yes', and vfio-bind does "
                                "not hold it at boot: libvirt unbinds its host driver at each start and probes it "
                                "again at each stop, with no look at who uses it; managed='no' lets vfio-bind's "
                                "libvirt hook hand it over (holders, StopUnits=, the console, its group), or "
                                "Device= holds it from boot",
                                a, strna(d.name), name, h->line);
                else if (!hook_installed)
                        r = strv_extend_printf(w, n,
                                               "%s: libvirt domain %s (%s:%u) passes it with managed='no', and "
                                               "vfio-bind's libvirt hook is not installed (%s): the domain's start "
                                               "fails with \"must be manually detached from the host\"",
                                               a, strna(d.name), name, h->line, hook);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int filter_xml(const struct dirent *de) {
        size_t l = strlen(de->d_name);
        return de->d_name[0] != '.' && l > 4 && streq(de->d_name + l - 4, ".xml");
}

int vbc_libvirt_check(const VbcArgs *a, const VbSnapshot *s, char ***warnings, size_t *n_warnings) {
        const char *root = vb_platform_config_root(a->platform);
        int r;

        for (size_t k = 0; k < ELEMENTSOF(libvirt_dirs); k++) {
                _cleanup_free_ char *dir = below(root, libvirt_dirs[k].domains);
                _cleanup_free_ char *hook = below(root, libvirt_dirs[k].hook);
                struct dirent **list = NULL;
                bool hook_installed;
                int n;

                if (!dir || !hook)
                        return -ENOMEM;
                n = scandir(dir, &list, filter_xml, alphasort);
                if (n < 0) {
                        if (errno == ENOENT || errno == ENOTDIR)
                                continue;
                        r = strv_extend_printf(warnings, n_warnings,
                                               "libvirt's domains in %s cannot be read (%s): run vfio-bind check as "
                                               "root to check them",
                                               libvirt_dirs[k].domains, strerror(errno));
                        if (r < 0)
                                return r;
                        continue;
                }
                hook_installed = access(hook, X_OK) == 0;
                r = 0;
                for (int i = 0; i < n; i++) {
                        _cleanup_free_ char *path = NULL, *name = NULL;

                        if (r >= 0 && (asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0 ||
                                       asprintf(&name, "%s/%s", libvirt_dirs[k].domains, list[i]->d_name) < 0))
                                r = -ENOMEM;
                        if (r >= 0)
                                r = check_domain(path, name, s, hook_installed, libvirt_dirs[k].hook, warnings,
                                                 n_warnings);
                        free(list[i]);
                }
                free(list);
                if (r < 0)
                        return r;
        }
        return 0;
}
