/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-bind dump FILE: one tar archive of everything vfio-bind reads from this machine, for a bug
 * report or a test fixture (`vfio-bind --root=FILE` reads it back). It records rather than lists:
 * the one look of groups, status and check (lib/snapshot) is taken on a context that notes every
 * path the library reads (lib/record) and writes nothing, with the plan's look for every device as
 * if each were configured, so that a replay with another configuration finds its files too. What
 * was read goes into the archive as it was read (lib/dump), with the configuration files and the
 * runtime marks beside it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "archive.h"
#include "diagnostics.h"
#include "dump.h"
#include "load.h"
#include "macro.h"
#include "output.h"
#include "pci.h"
#include "record.h"
#include "snapshot.h"
#include "vb-config.h"
#include "verbs.h"

#define SOURCE "vfio-bind dump"

/* A configuration that selects every device and asks for one VF of every SR-IOV PF: its plan
 * reads what any configuration's plan could read. */
static int every_device_config(const VbPciList *devices, VbConfig **ret) {
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        int r;

        r = vb_config_new(&c);
        if (r < 0)
                return r;
        c->selectors = calloc(devices->n ?: 1, sizeof(VbConfigSelector));
        c->vfs = calloc(devices->n ?: 1, sizeof(VbConfigVfs));
        if (!c->selectors || !c->vfs)
                return -ENOMEM;
        for (size_t i = 0; i < devices->n; i++) {
                const VbPciDevice *d = &devices->devices[i];
                char *file = strdup(SOURCE);

                if (!file)
                        return -ENOMEM;
                if (d->has_sriov) {
                        c->vfs[c->n_vfs++] = (VbConfigVfs) { .pf = d->address, .count = 1, .file = file };
                        continue;
                }
                c->selectors[c->n_selectors++] = (VbConfigSelector) {
                        .selector = { .type = VB_SELECTOR_ADDRESS, .address = d->address },
                        .file = file,
                };
        }
        *ret = TAKE_PTR(c);
        return 0;
}

/* The look groups, status and check take, and a plan's look for every device, on a context that
 * records every read: what any of them could need on a replay, read once each. */
static int record_reads(const VbcArgs *a, VbRecorder *rec) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_config_freep) VbConfig *c = NULL, *every = NULL;
        _cleanup_(vb_snapshot_done) VbSnapshot s = {};
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        VbcNames *names = NULL;
        VbcArgs sub = *a;
        int r;

        sub.recorder = rec;
        r = vbc_open_context(&sub, &ctx);
        if (r < 0)
                return r;
        /* The configuration and the kernel command line, as status reads them (quietly: the dump
         * keeps a configuration that does not load all the same). */
        if (vb_config_load_all_at(ctx, vb_platform_config_root(a->platform), a->config_path, &c, &diag) < 0)
                c = NULL;
        r = vb_snapshot_read(ctx, vb_platform_runtime_dir(a->platform), &s);
        if (r >= 0)
                r = vb_snapshot_read_groups(ctx, &s);
        if (r >= 0)
                r = vb_snapshot_read_facts(ctx, &s);
        if (r >= 0 && c)
                r = vb_snapshot_read_reach(ctx, c, &s);
        if (r >= 0)
                r = every_device_config(&s.devices, &every);
        if (r >= 0)
                r = vb_snapshot_read_reach(ctx, every, &s);
        if (r < 0)
                return r;
        /* The names groups shows. */
        names = vbc_names_new(sub.platform, rec);
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < s.devices.n; i++) {
                free(vbc_names_class(names, ctx, &s.devices.devices[i]));
                free(vbc_names_device(names, ctx, &s.devices.devices[i]));
        }
        vbc_names_free(names);
        return 0;
}

/* The configuration as status and check read it, under etc/, and the runtime marks under run/. */
static int add_configuration(const VbcArgs *a, VbArchive *ar) {
        const char *root = vb_platform_config_root(a->platform) ?: "";
        _cleanup_free_ char *file = NULL, *dir = NULL;
        int r;

        /* An explicit --config= is kept as the file a replay reads by default. */
        if (a->config_path)
                file = strdup(a->config_path);
        else if (asprintf(&file, "%s%s", root, VB_CONFIG_FILE) < 0)
                file = NULL;
        if (!file)
                return -ENOMEM;
        r = vb_dump_add_file(ar, VB_CONFIG_FILE + 1, file);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -ENOENT)
                fprintf(stderr, "vfio-bind: %s: cannot be kept in the dump: %s, ignoring\n", file, strerror(-r));
        if (!a->config_path) {
                if (asprintf(&dir, "%s%s", root, VB_CONFIG_DROPIN_DIR) < 0)
                        return -ENOMEM;
                r = vb_dump_add_tree(ar, VB_CONFIG_DROPIN_DIR + 1, dir, 1);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        r = vb_dump_add_tree(ar, "run/vfio-bind", vb_platform_runtime_dir(a->platform), 2);
        return r == -ENOENT ? 0 : r;
}

/* What the dump is: the version, the kernel, the time. */
/* The module index as far as Driver=auto looked in it: modules.alias, which a replay reads as its
 * index (none: the machine had no index). */
static int add_module_aliases(const VbRecorder *rec, VbArchive *ar, int64_t now) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = vb_recorder_aliases_text(rec, &text);
        if (r < 0 || !text)
                return r;
        return vb_archive_add(ar,
                              &(VbArchiveMember) { .name = "modules.alias",
                                                   .type = VB_ARCHIVE_FILE,
                                                   .mode = 0644,
                                                   .data = text,
                                                   .size = strlen(text) },
                              VB_DUMP_PRIORITY_EXTRA);
}

/* The device names groups showed, from this machine's udev hwdb: a replay shows those. */
static int add_names(const VbRecorder *rec, VbArchive *ar) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = vb_recorder_names_text(rec, &text);
        if (r < 0)
                return r;
        return vb_archive_add(ar,
                              &(VbArchiveMember) { .name = "hwdb.names",
                                                   .type = VB_ARCHIVE_FILE,
                                                   .mode = 0644,
                                                   .data = text,
                                                   .size = strlen(text) },
                              VB_DUMP_PRIORITY_EXTRA);
}

/* The interface addresses the network interlock judged by (getifaddrs()): a replay judges by them
 * too (an old dump without them falls back to proc/net/route and if_inet6). */
static int add_addresses(const VbRecorder *rec, VbArchive *ar) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = vb_recorder_addresses_text(rec, &text);
        if (r < 0 || !text)
                return r;
        return vb_archive_add(
                ar,
                &(VbArchiveMember) {
                        .name = "ifaddrs", .type = VB_ARCHIVE_FILE, .mode = 0644, .data = text, .size = strlen(text) },
                VB_DUMP_PRIORITY_EXTRA);
}

static int add_info(VbArchive *ar, int64_t now) {
        _cleanup_free_ char *text = NULL;
        struct utsname u = {};
        char date[64] = "";
        time_t t = (time_t) now;
        struct tm tm;

        (void) uname(&u);
        if (gmtime_r(&t, &tm))
                strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (asprintf(&text,
                     "vfio-bind %s\n"
                     "kernel: %s %s %s\n"
                     "date: %s\n"
                     "Read it with: vfio-bind --root=THIS-FILE groups|status|check\n",
                     PACKAGE_VERSION, u.sysname, u.release, u.machine, date) < 0)
                return -ENOMEM;
        return vb_archive_add(ar,
                              &(VbArchiveMember) { .name = "vfio-bind-dump",
                                                   .type = VB_ARCHIVE_FILE,
                                                   .mode = 0644,
                                                   .data = text,
                                                   .size = strlen(text) },
                              VB_DUMP_PRIORITY_EXTRA);
}

static int64_t dump_time(void) {
        const char *e = getenv("SOURCE_DATE_EPOCH");
        char *end;
        long long v;

        if (e && *e) {
                errno = 0;
                v = strtoll(e, &end, 10);
                if (errno == 0 && *end == '\0' && v >= 0)
                        return v;
        }
        return (int64_t) time(NULL);
}

int vbc_dump(const VbcArgs *a, const char *file) {
        _cleanup_(vb_recorder_freep) VbRecorder *rec = NULL;
        _cleanup_(vb_archive_freep) VbArchive *ar = NULL;
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_close_ int fd = -EBADF;
        VbPlatform read_only = a->platform ? *a->platform : (VbPlatform) {};
        VbcArgs b = *a;
        bool to_stdout = streq(file, "-");
        int64_t now = dump_time();
        uint64_t size = 0;
        int r;

        /* The dump looks; it never writes to the machine, not even through a test's kernel. */
        read_only.read_only = true;
        b.platform = &read_only;

        if (vb_recorder_new(&rec) < 0 || vb_archive_new(&ar) < 0) {
                fprintf(stderr, "vfio-bind: Out of memory\n");
                return 1;
        }
        if (vbc_open_context(&b, &ctx) < 0)
                return 1;
        if (!to_stdout) {
                fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
                if (fd < 0) {
                        fprintf(stderr, "vfio-bind: Failed to create %s: %m\n", file);
                        return 1;
                }
        }

        r = record_reads(&b, rec);
        if (r < 0 && r != -ENOMEM)
                fprintf(stderr, "vfio-bind: Failed to look at every device: %s; the dump holds what was read\n",
                        strerror(-r));
        if (r != -ENOMEM)
                r = vb_dump_add_records(ctx, rec, ar);
        if (r >= 0)
                r = add_configuration(&b, ar);
        /* Extra entries go here, each a file of its own at the top of the archive. */
        if (r >= 0)
                r = add_module_aliases(rec, ar, now);
        if (r >= 0)
                r = add_names(rec, ar);
        if (r >= 0)
                r = add_addresses(rec, ar);
        if (r >= 0)
                r = add_info(ar, now);
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to collect the dump: %s\n", strerror(-r));
                return 1;
        }

        fflush(stdout);
        r = vb_archive_write(ar, to_stdout ? STDOUT_FILENO : fd, now, &size);
        if (r >= 0 && !to_stdout && fsync(fd) < 0 && errno != EINVAL)
                r = negative_errno();
        if (r < 0) {
                fprintf(stderr, "vfio-bind: Failed to write %s: %s\n", to_stdout ? "the dump" : file, strerror(-r));
                return 1;
        }
        if (!to_stdout)
                fprintf(stderr, "vfio-bind: wrote %s (%ju bytes)\n", file, (uintmax_t) size);
        return 0;
}
