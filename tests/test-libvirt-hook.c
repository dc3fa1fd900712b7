/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-bind's libvirt hook (libvirt/hook.h) as libvirtd runs it, against the fake kernel: the CLI
 * it runs is vfio-bind itself on the same machine. What it binds at prepare begin and gives back
 * at release end, once per group, what it leaves alone, what aborts a start and writes nothing. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "hook.h"
#include "machine.h"
#include "runtime.h"
#include "tree.h"
#include "vfio-bind.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

#define HOSTDEV(managed, bus, fn)                                                                               \
        "<hostdev mode='subsystem' type='pci' managed='" managed "'><source><address domain='0x0000' bus='" bus \
        "' slot='0x00' function='" fn "'/></source></hostdev>\n"
#define DOMAIN(devices) "<domain type='qemu'>\n<name>vm1</name>\n<devices>\n" devices "</devices>\n</domain>\n"
#define SLOT DOMAIN(HOSTDEV("no", "0x01", "0x0") HOSTDEV("no", "0x01", "0x1"))

typedef struct Run {
        Machine *m;
        VbPlatform platform;
        bool spawn_fails_the_test; /* the hook must not run the CLI */
} Run;

/* The CLI in a child, as vfio-bind on M (cli/ with M's platform). */
static pid_t fake_spawn(const VbhSetup *s, char *const *argv, int out_fd, int err_fd) {
        Run *run = s->userdata;
        int argc = 0;
        pid_t pid;

        ASSERT_FALSE(run->spawn_fails_the_test);
        ASSERT_STREQ(argv[0], "/usr/bin/vfio-bind");
        while (argv[argc])
                argc++;
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int r;

                if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0)
                        vb_coverage_exit(127);
                setenv("NO_COLOR", "1", 1);
                r = vbc_main(argc, (char **) argv, &run->platform);
                fflush(NULL);
                vb_coverage_exit(r);
        }
        return pid;
}

static const char *const prio_names[] = {
        [LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug"
};

/* The journal of the test: "PRIORITY DOMAIN [OPERATION] MESSAGE" lines in hook.log. */
static void fake_log(const VbhSetup *s, int priority, const char *domain, const char *operation, const char *message) {
        Run *run = s->userdata;
        _cleanup_free_ char *line = NULL;

        ASSERT_TRUE(asprintf(&line, "%s %s [%s] %s\n", prio_names[priority] ?: "?", domain, operation, message) > 0);
        if (tree_append(run->m->dir, "hook.log", line) < 0)
                ASSERT_OK(tree_write(run->m->dir, "hook.log", line));
}

/* Run the hook on M with CONF as DOMAIN OPERATION SUBOPERATION -, XML on its stdin; its exit
 * status; what it logged in *LOG and wrote on stderr in *ERR (both emptied first). */
static int hook(Machine *m, const char *conf, const char *xml, const char *op, const char *subop, bool no_cli,
                char **log, char **err) {
        _cleanup_free_ char *conf_path = NULL, *err_path = NULL;
        Run run = {
                .m = m,
                .platform = {
                        .sysfs_root = fake_kernel_sysfs_root(m->k),
                        .procfs_root = fake_kernel_procfs_root(m->k),
                        .ops = &fake_kernel_ops,
                        .ops_userdata = m->k,
                        .runtime_dir = m->dir,
                },
                .spawn_fails_the_test = no_cli,
        };
        char *argv[] = { (char *) "/etc/libvirt/hooks/qemu.d/vfio-bind",
                         (char *) "vm1",
                         (char *) op,
                         (char *) subop,
                         (char *) "-",
                         NULL };
        int in, saved, e, r;

        ASSERT_TRUE(asprintf(&conf_path, "%s/vfio-bind.conf", m->dir) > 0);
        ASSERT_TRUE(asprintf(&err_path, "%s/hook.err", m->dir) > 0);
        ASSERT_OK(tree_write(m->dir, "vfio-bind.conf", conf));
        ASSERT_OK(tree_write(m->dir, "hook.log", ""));
        in = memfd_create("domain.xml", MFD_CLOEXEC);
        ASSERT_TRUE(in >= 0);
        ASSERT_EQ(write(in, xml, strlen(xml)), (ssize_t) strlen(xml));
        ASSERT_EQ(lseek(in, 0, SEEK_SET), 0);
        e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ASSERT_TRUE(e >= 0);
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        ASSERT_TRUE(saved >= 0);
        ASSERT_TRUE(dup2(e, STDERR_FILENO) >= 0);
        r = vbh_main(5, argv,
                     &(VbhSetup) {
                             .platform = &run.platform,
                             .config_path = conf_path,
                             .cli = "/usr/bin/vfio-bind",
                             .stdin_fd = in,
                             .spawn = fake_spawn,
                             .log = fake_log,
                             .userdata = &run,
                     });
        fflush(stderr);
        ASSERT_TRUE(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        close(e);
        close(in);
        *log = tree_read(m->dir, "hook.log");
        *err = tree_read(m->dir, "hook.err");
        ASSERT_TRUE(*log && *err);
        return r;
}

static size_t count(const char *haystack, const char *needle) {
        size_t n = 0;
        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static char *written(Machine *m) {
        char *log = fake_kernel_read_log(m->dir);
        ASSERT_TRUE(log);
        return log;
}

TEST(the_operations_table) {
        ASSERT_EQ(vbh_action_for("prepare", "begin"), VBH_TAKE);
        ASSERT_EQ(vbh_action_for("release", "end"), VBH_GIVE_BACK);
        ASSERT_EQ(vbh_action_for("prepare", "end"), VBH_NOTHING);
        ASSERT_EQ(vbh_action_for("start", "begin"), VBH_NOTHING);
        ASSERT_EQ(vbh_action_for("started", "begin"), VBH_NOTHING);
        ASSERT_EQ(vbh_action_for("stopped", "end"), VBH_NOTHING);
        ASSERT_EQ(vbh_action_for("migrate", "begin"), VBH_NOTHING);
        ASSERT_EQ(vbh_action_for("restore", "begin"), VBH_NOTHING);
        ASSERT_EQ(vbh_action_for("reconnect", "begin"), VBH_NOTHING);
        ASSERT_EQ(vbh_action_for("attach", "begin"), VBH_NOTHING);
        ASSERT_EQ(vbh_action_for("something-new", "begin"), VBH_NOTHING);
        ASSERT_STREQ(vbh_action_to_string(VBH_TAKE), "take");
        ASSERT_STREQ(vbh_action_to_string(VBH_GIVE_BACK), "give-back");
        ASSERT_STREQ(vbh_action_to_string(VBH_NOTHING), "nothing");
        ASSERT_NULL(vbh_action_to_string(_VBH_ACTION_MAX));
}

TEST(the_domain_gets_the_slot_and_gives_it_back_twice) {
        Machine m;

        machine_open(&m, "desktop", NULL);
        for (int round = 0; round < 2; round++) {
                _cleanup_free_ char *log = NULL, *err = NULL, *log2 = NULL, *err2 = NULL, *w = NULL, *w2 = NULL;

                ASSERT_OK(tree_write(m.dir, "fake-kernel.log", ""));
                /* prepare begin: the domain has the whole slot: one bind --take-group */
                ASSERT_EQ(hook(&m, "[Bind]\n", SLOT, "prepare", "begin", false, &log, &err), 0);
                ASSERT_STREQ(err, "");
                ASSERT_EQ(count(log, "running /usr/bin/vfio-bind bind"), 1u);
                ASSERT_CONTAINS(log,
                                "debug vm1 [prepare begin] running /usr/bin/vfio-bind bind --take-group " GPU "\n");
                ASSERT_CONTAINS(log, "info vm1 [prepare begin] 0000:01:00.0: bound to vfio-pci (was bochs-drm)\n");
                ASSERT_CONTAINS(log, "info vm1 [prepare begin] 0000:01:00.1: bound to vfio-pci (was snd_hda_intel)");
                ASSERT_CONTAINS(log, "info vm1 [prepare begin] 0000:01:00.0: released the console:");
                ASSERT_DRIVER(&m, GPU, "vfio-pci");
                ASSERT_DRIVER(&m, AUDIO, "vfio-pci");
                w = written(&m);
                ASSERT_EQ(count(w, "/driver_override=vfio-pci\n"), 2u);

                /* release end: one release --take-group, the console back */
                ASSERT_OK(tree_write(m.dir, "fake-kernel.log", ""));
                ASSERT_EQ(hook(&m, "[Bind]\n", SLOT, "release", "end", false, &log2, &err2), 0);
                ASSERT_STREQ(err2, "");
                ASSERT_EQ(count(log2, "running /usr/bin/vfio-bind release"), 1u);
                ASSERT_CONTAINS(log2, "running /usr/bin/vfio-bind release --take-group " GPU "\n");
                ASSERT_CONTAINS(log2,
                                "0000:01:00.0: released: driver_override cleared, now on bochs-drm (was vfio-pci)");
                ASSERT_CONTAINS(log2, "0000:01:00.1: released: driver_override cleared, now on snd_hda_intel");
                ASSERT_CONTAINS(log2, "console: back on");
                ASSERT_DRIVER(&m, GPU, "bochs-drm");
                ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");
                ASSERT_OVERRIDE(&m, GPU, NULL);
                ASSERT_OVERRIDE(&m, AUDIO, NULL);
                w2 = written(&m);
                ASSERT_EQ(count(w2, "drivers/vfio-pci/unbind="), 2u);
                {
                        _cleanup_free_ VbPciAddress *marks = NULL;
                        size_t n = 7;

                        ASSERT_OK(vb_runtime_list(m.dir, VB_MARK_LIBVIRT, &marks, &n));
                        ASSERT_EQ(n, 0u);
                        /* nor "released by hand": the configuration does not reach the slot, and
                         * once it names it vfio-bindd takes it as any other */
                        free(marks);
                        marks = NULL;
                        ASSERT_OK(vb_runtime_list_released(m.dir, &marks, &n));
                        ASSERT_EQ(n, 0u);
                }
        }
        machine_close(&m);
}

TEST(called_once_per_hostdev_the_slot_moves_once) {
        const char *take = "[Bind]\nGroup=take\n";
        _cleanup_free_ char *log = NULL, *err = NULL, *log2 = NULL, *err2 = NULL, *log3 = NULL, *err3 = NULL,
                            *log4 = NULL, *err4 = NULL, *w = NULL, *w2 = NULL, *log5 = NULL, *err5 = NULL;
        Machine m;

        /* A domain with one function of the slot under Group=check: refused, naming the other
         * function, nothing written; the start is aborted. */
        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(hook(&m, "[Bind]\n", DOMAIN(HOSTDEV("no", "1", "0")), "prepare", "begin", false, &log5, &err5), 1);
        ASSERT_STREQ(err5,
                     "vfio-bind: vm1: 0000:01:00.0: refused: IOMMU group 1 has 0000:01:00.1 on snd_hda_intel "
                     "(Group=check); give the domain every function of the group, or set Group=take in "
                     "vfio-bind.conf; nothing was written");
        w = written(&m);
        ASSERT_STREQ(w, "");
        free(w);

        /* Under Group=take, a hook run per hostdev: the first takes the slot, the second finds it
         * bound and writes nothing; at release end the same. */
        ASSERT_EQ(hook(&m, take, DOMAIN(HOSTDEV("no", "1", "0")), "prepare", "begin", false, &log, &err), 0);
        ASSERT_DRIVER(&m, AUDIO, "vfio-pci");
        ASSERT_OK(tree_write(m.dir, "fake-kernel.log", ""));
        ASSERT_EQ(hook(&m, take, DOMAIN(HOSTDEV("no", "1", "1")), "prepare", "begin", false, &log2, &err2), 0);
        ASSERT_CONTAINS(log2, "0000:01:00.1: already on vfio-pci");
        w = written(&m);
        ASSERT_STREQ(w, "");

        ASSERT_EQ(hook(&m, take, DOMAIN(HOSTDEV("no", "1", "1")), "release", "end", false, &log3, &err3), 0);
        ASSERT_CONTAINS(log3, "running /usr/bin/vfio-bind release --take-group " AUDIO "\n");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");
        ASSERT_OK(tree_write(m.dir, "fake-kernel.log", ""));
        ASSERT_EQ(hook(&m, take, DOMAIN(HOSTDEV("no", "1", "0")), "release", "end", true, &log4, &err4), 0);
        ASSERT_STREQ(log4,
                     "info vm1 [release end] 0000:01:00.0: not passed through (on bochs-drm); nothing to give back");
        w2 = written(&m);
        ASSERT_STREQ(w2, "");
        machine_close(&m);
}

TEST(a_program_that_holds_the_card_aborts_the_start) {
        _cleanup_free_ char *log = NULL, *err = NULL, *w = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        machine_xorg_holds_card(&m, "display-manager.service");
        ASSERT_EQ(hook(&m, "[Bind]\n", SLOT, "prepare", "begin", false, &log, &err), 1);
        /* one line, with what the hook's user can do (not the CLI's --force) */
        ASSERT_STREQ(err,
                     "vfio-bind: vm1: 0000:01:00.0: refused: the host uses it: /dev/dri/card0 is open in PID 812 "
                     "(Xorg, display-manager.service) (Force= overrides); [Handoff] StopUnits= in vfio-bind.conf "
                     "lets a unit's program be stopped first; nothing was written");
        ASSERT_CONTAINS(log, "err vm1 [prepare begin] 0000:01:00.0: refused: the host uses it:");
        w = written(&m);
        ASSERT_STREQ(w, "");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");
        ASSERT_OVERRIDE(&m, GPU, NULL);
        machine_close(&m);
}

TEST(a_later_failure_gives_back_what_the_start_took) {
        _cleanup_free_ char *log = NULL, *err = NULL;
        Machine m;

        /* the slot, then a bridge (never bound): the slot is bound, the bridge refused, the slot
         * given back, and the start aborted */
        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(hook(&m, "[Bind]\n",
                       DOMAIN(HOSTDEV("no", "1", "0") HOSTDEV(
                               "no", "1",
                               "1") "<hostdev mode='subsystem' type='pci' managed='no'><source><address bus='0' "
                                    "slot='1' function='0'/></source></hostdev>\n"),
                       "prepare", "begin", false, &log, &err),
                  1);
        ASSERT_STREQ(err,
                     "vfio-bind: vm1: 0000:00:01.0: refused: it is a bridge, and bridges are never bound; "
                     "nothing was written");
        ASSERT_CONTAINS(log, "notice vm1 [prepare begin] 0000:01:00.0: giving it back: the start is aborted\n");
        ASSERT_CONTAINS(log, "running /usr/bin/vfio-bind release --take-group " GPU "\n");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");
        ASSERT_OVERRIDE(&m, GPU, NULL);
        machine_close(&m);
}

TEST(what_the_configuration_binds_stays_at_release) {
        const char *conf = "[Bind]\nDevice=" GPU "\nGroup=take\n";
        _cleanup_free_ char *log = NULL, *err = NULL, *log2 = NULL, *err2 = NULL, *w = NULL;
        Machine m;

        /* the slot is in the configuration: vfio-bindd's; the hook binds nothing new at prepare
         * (bound here by the first call, as at boot) and gives nothing back at release end */
        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(hook(&m, conf, SLOT, "prepare", "begin", false, &log, &err), 0);
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        ASSERT_OK(tree_write(m.dir, "fake-kernel.log", ""));
        ASSERT_EQ(hook(&m, conf, SLOT, "release", "end", true, &log2, &err2), 0);
        ASSERT_STREQ(log2,
                     "info vm1 [release end] 0000:01:00.0: stays on vfio-pci: the configuration binds it, and "
                     "vfio-bindd keeps it\n"
                     "info vm1 [release end] 0000:01:00.1: stays on vfio-pci: the configuration binds it, and "
                     "vfio-bindd keeps it");
        w = written(&m);
        ASSERT_STREQ(w, "");
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        ASSERT_DRIVER(&m, AUDIO, "vfio-pci");
        machine_close(&m);
}

TEST(what_was_passed_through_before_the_start_stays_at_release) {
        _cleanup_free_ char *bound = NULL, *log = NULL, *err = NULL, *log2 = NULL, *err2 = NULL, *w = NULL,
                            *marks_dir = NULL;
        _cleanup_free_ VbPciAddress *marks = NULL;
        size_t n = 7;
        Machine m;

        /* The user bound the slot by hand (vfio-bind bind, virsh nodedev-detach) before the start:
         * the hook takes nothing, marks nothing, and the domain's release leaves the slot there. */
        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(hook(&m, "[Bind]\nGroup=take\n", DOMAIN(HOSTDEV("no", "1", "0")), "prepare", "begin", false, &bound,
                       &err),
                  0);
        ASSERT_OK(vb_runtime_list(m.dir, VB_MARK_LIBVIRT, &marks, &n));
        ASSERT_EQ(n, 2u); /* the slot, both functions (Group=take) */
        free(err);
        err = NULL;
        free(marks);
        marks = NULL;
        /* as if by hand: the marks gone */
        ASSERT_TRUE(asprintf(&marks_dir, "%s/libvirt", m.dir) > 0);
        ASSERT_OK(tree_remove(marks_dir));

        ASSERT_OK(tree_write(m.dir, "fake-kernel.log", ""));
        ASSERT_EQ(hook(&m, "[Bind]\n", SLOT, "prepare", "begin", false, &log, &err), 0);
        ASSERT_OK(vb_runtime_list(m.dir, VB_MARK_LIBVIRT, &marks, &n));
        ASSERT_EQ(n, 0u);
        ASSERT_EQ(hook(&m, "[Bind]\n", SLOT, "release", "end", true, &log2, &err2), 0);
        ASSERT_STREQ(log2,
                     "info vm1 [release end] 0000:01:00.0: stays on vfio-pci: it was passed through before the domain "
                     "started, not by this hook (vfio-bind release 0000:01:00.0 gives it back)\n"
                     "info vm1 [release end] 0000:01:00.1: stays on vfio-pci: it was passed through before the domain "
                     "started, not by this hook (vfio-bind release 0000:01:00.1 gives it back)");
        w = written(&m);
        ASSERT_STREQ(w, "");
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        machine_close(&m);
}

TEST(what_the_hook_does_not_handle_is_left_alone) {
        _cleanup_free_ char *l1 = NULL, *e1 = NULL, *l2 = NULL, *e2 = NULL, *l3 = NULL, *e3 = NULL, *l4 = NULL,
                            *e4 = NULL, *l5 = NULL, *e5 = NULL, *l6 = NULL, *e6 = NULL, *w = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        /* operations other than prepare begin and release end: nothing, not even the XML read */
        ASSERT_EQ(hook(&m, "[Bind]\n", "not even xml", "started", "begin", true, &l1, &e1), 0);
        ASSERT_STREQ(l1, "");
        ASSERT_EQ(hook(&m, "[Bind]\n", SLOT, "stopped", "end", true, &l6, &e6), 0);
        ASSERT_STREQ(l6, "");
        /* managed='yes' and what is not a PCI device: said, left to libvirt */
        ASSERT_EQ(hook(&m, "[Bind]\n",
                       DOMAIN(HOSTDEV("yes", "1", "0") "<hostdev mode='subsystem' type='usb'><source><vendor "
                                                       "id='0x046d'/></source></hostdev>\n"),
                       "prepare", "begin", true, &l2, &e2),
                  0);
        ASSERT_STREQ(l2,
                     "info vm1 [prepare begin] <hostdev type='pci' managed='yes'> 0000:01:00.0 (line 4): libvirt "
                     "detaches and reattaches it itself (managed='yes'); left to libvirt\n"
                     "info vm1 [prepare begin] <hostdev mode='subsystem' type='usb'> (line 5): not a PCI device that "
                     "vfio-bind hands over; left to libvirt\n"
                     "debug vm1 [prepare begin] no PCI host device with managed='no': nothing for vfio-bind to do");
        ASSERT_STREQ(e2, "");
        /* malformed XML: the start is aborted with the line, nothing written */
        ASSERT_EQ(hook(&m, "[Bind]\n", "<domain>\n<devices>\n</domain>\n", "prepare", "begin", true, &l3, &e3), 1);
        ASSERT_STREQ(e3,
                     "vfio-bind: vm1: the domain XML cannot be read: stdin:3: Opening and ending tag mismatch: "
                     "devices line 2 and domain; nothing was written");
        ASSERT_CONTAINS(l3, "err vm1 [prepare begin] the domain XML cannot be read: stdin:3:");
        /* a device that is not there: refused before anything is bound */
        ASSERT_EQ(hook(&m, "[Bind]\n", DOMAIN(HOSTDEV("no", "1", "0") HOSTDEV("no", "9", "0")), "prepare", "begin",
                       true, &l4, &e4),
                  1);
        ASSERT_STREQ(e4, "vfio-bind: vm1: 0000:09:00.0: no such PCI device; nothing was written");
        /* a configuration with an error: nothing written, the line named */
        ASSERT_EQ(hook(&m, "[Bind]\nGroup=sometimes\n", SLOT, "prepare", "begin", true, &l5, &e5), 1);
        ASSERT_CONTAINS(e5, "vfio-bind: vm1: ");
        ASSERT_CONTAINS(e5, "vfio-bind.conf:2: ");
        w = written(&m);
        ASSERT_STREQ(w, "");
        machine_close(&m);
}

TEST(not_called_as_libvirt_calls_it) {
        char *argv[] = { (char *) "vfio-bind-libvirt-hook", NULL };
        int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);

        ASSERT_TRUE(saved >= 0 && null >= 0);
        fflush(stderr);
        dup2(null, STDERR_FILENO);
        ASSERT_EQ(vbh_main(1, argv, &(VbhSetup) { .stdin_fd = -1 }), 2);
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(null);
}

TESTS_MAIN()
