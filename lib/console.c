/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include "alloc-util.h"
#include "console.h"
#include "macro.h"
#include "strv.h"
#include "sysfs.h"

#define VTCONSOLE_PATH "class/vtconsole"
#define PLATFORM_DEVICES_PATH "bus/platform/devices"
#define PLATFORM_DRIVERS_PATH "bus/platform/drivers"
#define VTCONSOLE_FRAMEBUFFER_NAME "(M) frame buffer device"

/* Names under which the firmware framebuffer's memory shows in /proc/iomem. */
static const char *const iomem_framebuffer_names[] = {
        "BOOTFB", "efifb", "simplefb", "simpledrm", "vesafb", "simple-framebuffer", "efi-framebuffer",
};

void vb_console_state_done(VbConsoleState *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_vtconsoles; i++)
                free(s->vtconsoles[i].name);
        free(s->vtconsoles);
        for (size_t i = 0; i < s->n_framebuffers; i++) {
                free(s->framebuffers[i].name);
                free(s->framebuffers[i].driver);
        }
        free(s->framebuffers);
        vb_memory_ranges_free(s->ranges, s->n_ranges);
        *s = (VbConsoleState) {};
}

static int parse_unsigned(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        if (!s || !*s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > UINT_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int read_vtconsoles(VbContext *ctx, VbConsoleState *s) {
        _cleanup_strv_free_ char **names = NULL;
        size_t count = 0;
        int r;

        r = vb_sysfs_list(ctx, VTCONSOLE_PATH, &names);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        count = strv_length(names);
        s->vtconsoles = calloc(count ?: 1, sizeof(VbVtconsole));
        if (!s->vtconsoles)
                return -ENOMEM;

        for (char **i = names; *i; i++) {
                VbVtconsole *v = &s->vtconsoles[s->n_vtconsoles];
                _cleanup_free_ char *bind = NULL;
                char path[128];
                unsigned idx;

                if (!strneq(*i, "vtcon", 5) || parse_unsigned(*i + 5, &idx) < 0)
                        continue;
                snprintf(path, sizeof(path), VTCONSOLE_PATH "/%s/name", *i);
                r = vb_sysfs_read(ctx, path, &v->name);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                snprintf(path, sizeof(path), VTCONSOLE_PATH "/%s/bind", *i);
                r = vb_sysfs_read(ctx, path, &bind);
                if (r < 0) {
                        free(TAKE_PTR(v->name));
                        if (r == -ENOENT)
                                continue;
                        return r;
                }
                v->index = idx;
                v->bound = streq(bind, "1");
                v->framebuffer = streq(v->name, VTCONSOLE_FRAMEBUFFER_NAME);
                s->n_vtconsoles++;
        }
        return 0;
}

/* "efi-framebuffer.0", "simple-framebuffer.0", "vesa-framebuffer.0", "platform-framebuffer.0", … */
static bool is_framebuffer_device_name(const char *name) {
        const char *dot = strrchr(name, '.');
        const char *suffix = "-framebuffer";
        size_t len;

        if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
                return false;
        len = (size_t) (dot - name);
        return len > strlen(suffix) && strneq(dot - strlen(suffix), suffix, strlen(suffix));
}

static int read_framebuffers(VbContext *ctx, VbConsoleState *s) {
        _cleanup_strv_free_ char **names = NULL;
        size_t count = 0;
        int r;

        r = vb_sysfs_list(ctx, PLATFORM_DEVICES_PATH, &names);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        count = strv_length(names);
        s->framebuffers = calloc(count ?: 1, sizeof(VbFramebuffer));
        if (!s->framebuffers)
                return -ENOMEM;

        for (char **i = names; *i; i++) {
                VbFramebuffer *f = &s->framebuffers[s->n_framebuffers];
                _cleanup_free_ char *target = NULL;
                char path[PATH_MAX];

                if (!is_framebuffer_device_name(*i))
                        continue;
                f->name = strdup(*i);
                if (!f->name)
                        return -ENOMEM;

                snprintf(path, sizeof(path), PLATFORM_DEVICES_PATH "/%s/driver", *i);
                r = vb_sysfs_readlink_basename(ctx, path, &f->driver);
                if (r < 0 && r != -ENOENT)
                        return r;

                /* Newer kernels register the framebuffer below the GPU it lives on. */
                snprintf(path, sizeof(path), PLATFORM_DEVICES_PATH "/%s", *i);
                r = vb_sysfs_readlink(ctx, path, &target);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        char *slash = strrchr(target, '/');
                        if (slash) {
                                *slash = '\0';
                                slash = strrchr(target, '/');
                                if (vb_pci_address_parse(slash ? slash + 1 : target, &f->parent) >= 0)
                                        f->has_parent = true;
                        }
                }
                s->n_framebuffers++;
        }
        return 0;
}

static bool is_framebuffer_range_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(iomem_framebuffer_names); i++)
                if (streq(name, iomem_framebuffer_names[i]))
                        return true;
        return false;
}

void vb_memory_ranges_free(VbMemoryRange *ranges, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(ranges[i].name);
        free(ranges);
}

int vb_console_iomem_parse(const char *text, VbMemoryRange **ret, size_t *ret_n) {
        _cleanup_free_ char *copy = NULL;
        VbMemoryRange *ranges = NULL;
        char *line, *saveptr = NULL;
        size_t n = 0, allocated = 0;

        assert(text);
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        for (line = strtok_r(copy, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
                uint64_t start, end;
                char *colon, *name;

                colon = strstr(line, " : ");
                if (!colon)
                        continue;
                name = colon + 3;
                if (!is_framebuffer_range_name(name))
                        continue;
                if (sscanf(line, " %" SCNx64 "-%" SCNx64, &start, &end) != 2)
                        continue;
                if (start == 0 && end == 0) /* addresses are hidden from unprivileged readers */
                        continue;
                if (start > end) /* no range (the kernel prints none such): nothing to compare BARs with */
                        continue;
                if (!VB_GREEDY_REALLOC(ranges, allocated, n + 1)) {
                        vb_memory_ranges_free(ranges, n);
                        return -ENOMEM;
                }
                ranges[n].name = strdup(name);
                if (!ranges[n].name) {
                        vb_memory_ranges_free(ranges, n);
                        return -ENOMEM;
                }
                ranges[n].start = start;
                ranges[n].end = end;
                n++;
        }
        *ret = ranges;
        *ret_n = n;
        return 0;
}

static int read_iomem(VbContext *ctx, VbConsoleState *s) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = vb_procfs_read(ctx, "iomem", &text);
        if (r < 0)
                return r == -ENOENT || r == -EACCES ? 0 : r;
        return vb_console_iomem_parse(text, &s->ranges, &s->n_ranges);
}

int vb_console_read(VbContext *ctx, VbConsoleState *ret) {
        _cleanup_(vb_console_state_done) VbConsoleState s = {};
        int r;

        r = read_vtconsoles(ctx, &s);
        if (r < 0)
                return r;
        r = read_framebuffers(ctx, &s);
        if (r < 0)
                return r;
        r = read_iomem(ctx, &s);
        if (r < 0)
                return r;
        s.fbcon_between = vb_sysfs_exists(ctx, "class/graphics/fbcon");
        for (size_t i = 0; i < s.n_vtconsoles && s.fbcon_between; i++)
                if (s.vtconsoles[i].framebuffer)
                        s.fbcon_between = false;
        *ret = s;
        s = (VbConsoleState) {};
        return 0;
}

bool vb_console_is_held(const VbConsoleState *s) {
        if (s->fbcon_between)
                return true;
        for (size_t i = 0; i < s->n_vtconsoles; i++)
                if (s->vtconsoles[i].framebuffer && s->vtconsoles[i].bound)
                        return true;
        for (size_t i = 0; i < s->n_framebuffers; i++)
                if (s->framebuffers[i].driver)
                        return true;
        return false;
}

bool vb_console_owned_by(const VbConsoleState *s, const VbPciDevice *d, const char **ret_why) {
        const char *why = NULL;

        for (size_t i = 0; !why && i < s->n_framebuffers; i++)
                if (s->framebuffers[i].has_parent && vb_pci_address_equal(&s->framebuffers[i].parent, &d->address))
                        why = "the boot framebuffer belongs to it";
        for (size_t i = 0; !why && i < s->n_ranges; i++)
                for (size_t j = 0; j < d->n_resources; j++)
                        if (s->ranges[i].start >= d->resources[j].start && s->ranges[i].end <= d->resources[j].end) {
                                why = "the boot framebuffer lies in its memory";
                                break;
                        }
        if (!why && d->boot_vga)
                why = "it is the boot VGA device";

        if (why && ret_why)
                *ret_why = why;
        return why != NULL;
}

void vb_console_release_done(VbConsoleRelease *r) {
        if (!r)
                return;
        free(r->released);
        *r = (VbConsoleRelease) {};
}

int vb_console_release(VbContext *ctx, const VbConsoleState *s, VbConsoleRelease *ret) {
        VbConsoleRelease rel = {};
        char path[PATH_MAX];
        int r = 0;

        for (size_t i = 0; i < s->n_vtconsoles; i++) {
                const VbVtconsole *v = &s->vtconsoles[i];
                char name[32];

                if (!v->framebuffer || !v->bound)
                        continue;
                snprintf(path, sizeof(path), VTCONSOLE_PATH "/vtcon%u/bind", v->index);
                r = vb_sysfs_write(ctx, path, "0");
                if (r < 0) {
                        vb_debug(ctx, "unbinding vtcon%u failed: %s", v->index, strerror(-r));
                        goto finish;
                }
                rel.vtconsoles_released++;
                snprintf(name, sizeof(name), "vtcon%u", v->index);
                r = vb_join_append(&rel.released, ", ", "%s", name);
                if (r < 0)
                        goto finish;
        }

        for (size_t i = 0; i < s->n_framebuffers; i++) {
                const VbFramebuffer *f = &s->framebuffers[i];

                if (!f->driver)
                        continue;
                snprintf(path, sizeof(path), PLATFORM_DRIVERS_PATH "/%s/unbind", f->driver);
                r = vb_sysfs_write(ctx, path, f->name);
                if (r == -ENODEV || r == -ENOENT) {
                        /* Gone already: a DRM driver or vfio-pci removed it meanwhile. */
                        vb_debug(ctx, "%s was already released", f->name);
                        r = 0;
                        continue;
                }
                if (r < 0) {
                        vb_debug(ctx, "unbinding %s from %s failed: %s", f->name, f->driver, strerror(-r));
                        goto finish;
                }
                rel.framebuffers_released++;
                r = vb_join_append(&rel.released, ", ", "%s", f->name);
                if (r < 0)
                        goto finish;
        }
        r = rel.vtconsoles_released + rel.framebuffers_released > 0;

finish:
        *ret = rel;
        return r;
}

void vb_console_restore_done(VbConsoleRestore *r) {
        if (!r)
                return;
        free(r->rebound);
        free(r->shown);
        free(r->missing);
        *r = (VbConsoleRestore) {};
}

/* Bind the boot framebuffer platform device NAME again. */
static int rebind_framebuffer(VbContext *ctx, const char *name) {
        char driver[128], path[PATH_MAX];
        size_t n = strcspn(name, ".");

        /* efi-framebuffer.0 is driven by efi-framebuffer, simple-framebuffer.0 by simpledrm's or
         * simplefb's "simple-framebuffer", vesa-framebuffer.0 by vesafb's "vesa-framebuffer". */
        snprintf(driver, sizeof(driver), "%.*s", (int) n, name);
        snprintf(path, sizeof(path), PLATFORM_DRIVERS_PATH "/%s", driver);
        if (vb_sysfs_exists(ctx, path)) {
                snprintf(path, sizeof(path), PLATFORM_DRIVERS_PATH "/%s/bind", driver);
                return vb_sysfs_write(ctx, path, name);
        }
        return vb_sysfs_write(ctx, "bus/platform/drivers_probe", name);
}

int vb_console_restore(VbContext *ctx, bool driver_back, VbConsoleRestore *ret) {
        _cleanup_(vb_console_state_done) VbConsoleState before = {}, after = {};
        VbConsoleRestore rest = {};
        char path[PATH_MAX], name[32];
        bool any_fb_console = false;
        int r;

        r = vb_console_read(ctx, &before);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < before.n_framebuffers; i++) {
                const VbFramebuffer *f = &before.framebuffers[i];

                if (f->driver)
                        continue;
                r = rebind_framebuffer(ctx, f->name);
                if (r < 0) {
                        vb_debug(ctx, "binding %s again failed: %s", f->name, strerror(-r));
                        if (asprintf(&rest.missing, "%s could not be bound again: %s", f->name, strerror(-r)) < 0)
                                rest.missing = NULL;
                        r = 0; /* the GPU's own driver may show the console all the same */
                        continue;
                }
                r = vb_join_append(&rest.rebound, ", ", "%s", f->name);
                if (r < 0)
                        goto finish;
        }

        /* The framebuffer consoles as they are now (binding a framebuffer may have brought one). */
        vb_console_state_done(&before);
        r = vb_console_read(ctx, &before);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < before.n_vtconsoles; i++) {
                const VbVtconsole *v = &before.vtconsoles[i];

                if (!v->framebuffer || v->bound)
                        continue;
                snprintf(path, sizeof(path), VTCONSOLE_PATH "/vtcon%u/bind", v->index);
                r = vb_sysfs_write(ctx, path, "1");
                if (r < 0) {
                        vb_debug(ctx, "binding vtcon%u failed: %s", v->index, strerror(-r));
                        goto finish;
                }
                snprintf(name, sizeof(name), "vtcon%u", v->index);
                r = vb_join_append(&rest.rebound, ", ", "%s", name);
                if (r < 0)
                        goto finish;
        }

        /* A DRM driver's framebuffer registers fbcon's console a moment after its probe (fbcon
         * between two framebuffers): wait for it, two seconds at most, when the release bound a
         * driver to the GPU; without one nothing is coming. */
        for (unsigned tries = 0;; tries++) {
                vb_console_state_done(&after);
                r = vb_console_read(ctx, &after);
                if (r < 0)
                        goto finish;
                if (!driver_back || !after.fbcon_between || tries >= 20)
                        break;
                (void) usleep(100 * 1000);
        }
        for (size_t i = 0; i < after.n_vtconsoles; i++) {
                const VbVtconsole *v = &after.vtconsoles[i];

                if (!v->framebuffer || !v->bound)
                        continue;
                any_fb_console = true;
                snprintf(name, sizeof(name), "vtcon%u", v->index);
                r = vb_join_append(&rest.shown, ", ", "%s", name);
                if (r < 0)
                        goto finish;
        }
        if (!any_fb_console && !rest.missing &&
            asprintf(&rest.missing,
                     "no framebuffer console: no framebuffer is registered now (the boot framebuffer is gone, "
                     "and the GPU's host driver, if any, provides none)") < 0)
                rest.missing = NULL;
        r = any_fb_console;

finish:
        *ret = rest;
        return r;
}
