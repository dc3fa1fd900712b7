/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-bind bind and release against the fake kernel: the CLI refuses what the daemon would,
 * in the same words, writes nothing when it refuses, and applies the same plan. */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "machine.h"
#include "runtime.h"
#include "sysfs.h"
#include "tree.h"
#include "vfio-bind.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

/* A service manager for the tests: every job is appended to units.log in M's tree; stopping a
 * unit ends its processes (the fake /proc's PIDs whose cgroup names it). */
static int fake_unit_job(Machine *m, const char *job, const char *unit) {
        _cleanup_free_ char *line = NULL, *proc = NULL;
        DIR *d;

        if (asprintf(&line, "%s %s\n", job, unit) < 0 || asprintf(&proc, "%s/proc", m->dir) < 0)
                return -ENOMEM;
        if (tree_append(m->dir, "units.log", line) < 0 && tree_write(m->dir, "units.log", line) < 0)
                return -EIO;
        if (!streq(job, "stop") || !(d = opendir(proc)))
                return 0;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *cg_path = NULL, *cg = NULL, *dir = NULL;
                size_t n = strlen(unit), l;

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                if (asprintf(&cg_path, "proc/%s/cgroup", de->d_name) < 0 ||
                    asprintf(&dir, "%s/proc/%s", m->dir, de->d_name) < 0)
                        break;
                cg = tree_read(m->dir, cg_path);
                l = cg ? strlen(cg) : 0;
                if (l > n && cg[l - n - 1] == '/' && streq(cg + l - n, unit))
                        (void) tree_remove(dir);
        }
        closedir(d);
        return 0;
}

static int fake_stop_unit(void *userdata, const char *unit) {
        return fake_unit_job(userdata, "stop", unit);
}

static int fake_start_unit(void *userdata, const char *unit) {
        return fake_unit_job(userdata, "start", unit);
}

static const VbServiceOps fake_services = { .stop_unit = fake_stop_unit, .start_unit = fake_start_unit };

/* Run `vfio-bind --config=… ARGS…` on M with CONF (written to M's tree); its exit code, its
 * stdout and stderr in *OUT. */
static int cli(Machine *m, const char *conf, const char *const *args, char **out) {
        _cleanup_free_ char *conf_path = NULL, *out_path = NULL, *arg = NULL;
        char *argv[16];
        int argc = 0, st;
        pid_t pid;

        ASSERT_TRUE(asprintf(&conf_path, "%s/vfio-bind.conf", m->dir) > 0);
        ASSERT_TRUE(asprintf(&out_path, "%s/cli.out", m->dir) > 0);
        ASSERT_TRUE(asprintf(&arg, "--config=%s", conf_path) > 0);
        ASSERT_OK(tree_write(m->dir, "vfio-bind.conf", conf));
        argv[argc++] = (char *) "vfio-bind";
        argv[argc++] = arg;
        for (; *args && argc < 15; args++)
                argv[argc++] = (char *) *args;
        argv[argc] = NULL;
        fflush(NULL);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                int r;

                if (!freopen(out_path, "w", stdout) || !freopen(out_path, "a", stderr))
                        vb_coverage_exit(127);
                setvbuf(stdout, NULL, _IONBF, 0);
                setenv("NO_COLOR", "1", 1);
                r = vbc_main(argc, argv,
                             &(VbPlatform) {
                                     .sysfs_root = fake_kernel_sysfs_root(m->k),
                                     .procfs_root = fake_kernel_procfs_root(m->k),
                                     .ops = &fake_kernel_ops,
                                     .ops_userdata = m->k,
                                     .runtime_dir = m->dir,
                                     .services = &fake_services,
                                     .services_userdata = m,
                                     .config_root = m->dir,
                             });
                fflush(NULL);
                vb_coverage_exit(r);
        }
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        *out = tree_read(m->dir, "cli.out");
        ASSERT_TRUE(*out);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* chmod DIR/PATH. */
static int chmod_in(const char *dir, const char *path, mode_t mode) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", dir, path) < 0)
                return -ENOMEM;
        return chmod(p, mode) < 0 ? -errno : 0;
}

/* What the CLI (a separate process) wrote through the fake kernel. */
static char *written(Machine *m) {
        char *log = fake_kernel_read_log(m->dir);
        ASSERT_TRUE(log);
        return log;
}

TEST(bind_refuses_half_a_group_and_writes_nothing) {
        _cleanup_free_ char *out = NULL, *log = NULL;
        Machine m;

        /* The audio function of the GPU's group is on snd_hda_intel: under Group=check (the
         * default) the GPU alone would be useless to a guest. */
        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", GPU, NULL }, &out), 1);
        ASSERT_CONTAINS(out, "0000:01:00.0: refused: IOMMU group 1 has 0000:01:00.1 on snd_hda_intel (Group=check)");
        ASSERT_CONTAINS(out, "--take-group binds every endpoint of the group");
        ASSERT_CONTAINS(out, "nothing was written");
        log = written(&m);
        ASSERT_STREQ(log, "");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_OVERRIDE(&m, GPU, NULL);
        machine_close(&m);
}

TEST(bind_take_group_binds_the_slot) {
        _cleanup_free_ char *dry = NULL, *out = NULL, *log = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        /* --dry-run prints the plan and writes nothing. */
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--dry-run", "--take-group", GPU, NULL }, &dry),
                  0);
        ASSERT_CONTAINS(dry, "Dry run: nothing is written");
        ASSERT_CONTAINS(
                dry,
                "0000:01:00.0 [1234:1111] class 030000, group 1, bochs-drm: bind to vfio-pci, unbinding bochs-drm");
        ASSERT_CONTAINS(dry,
                        "0000:01:00.1 [8086:293e] class 040300, group 1, snd_hda_intel: bind to vfio-pci, unbinding "
                        "snd_hda_intel (a member of its IOMMU group, Group=take)");
        ASSERT_CONTAINS(dry, "module: load the module of vfio-pci first");
        ASSERT_CONTAINS(dry, "console: release before binding (0000:01:00.0:");
        log = written(&m);
        ASSERT_STREQ(log, "");
        free(TAKE_PTR(log));

        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--take-group", GPU, NULL }, &out), 0);
        ASSERT_CONTAINS(out, "released the console: vtcon1, efi-framebuffer.0");
        ASSERT_CONTAINS(out, "0000:01:00.0: bound to vfio-pci (was bochs-drm)");
        ASSERT_CONTAINS(out, "0000:01:00.1: bound to vfio-pci (was snd_hda_intel)");
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        ASSERT_DRIVER(&m, AUDIO, "vfio-pci");
        log = written(&m);
        ASSERT_CONTAINS(log, "load vfio-pci -> 1\nclass/vtconsole/vtcon1/bind=0\n");
        machine_close(&m);
}

TEST(bind_honours_release_marks_of_the_group) {
        _cleanup_free_ char *out = NULL, *taken = NULL;
        _cleanup_free_ VbPciAddress *marks = NULL;
        VbPciAddress audio = machine_addr(AUDIO);
        size_t n = 0;
        Machine m;

        machine_open(&m, "desktop", NULL);
        ASSERT_OK(vb_runtime_set_released(m.dir, &audio, true));
        /* Group=take, but the audio function was given back by hand: the GPU is refused, in the
         * daemon's words. */
        ASSERT_EQ(cli(&m, "[Bind]\nGroup=take\n", (const char *const[]) { "bind", GPU, NULL }, &out), 1);
        ASSERT_CONTAINS(out,
                        "0000:01:00.0: refused: IOMMU group 1 has 0000:01:00.1 on snd_hda_intel (released by hand "
                        "with vfio-bind release) (Group=take)");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        /* --take-group takes the whole group again, marks and all. */
        ASSERT_EQ(cli(&m, "[Bind]\nGroup=take\n", (const char *const[]) { "bind", "--take-group", GPU, NULL }, &taken),
                  0);
        ASSERT_DRIVER(&m, AUDIO, "vfio-pci");
        ASSERT_OK(vb_runtime_list_released(m.dir, &marks, &n));
        ASSERT_EQ(n, 0);
        machine_close(&m);
}

TEST(bind_console_follows_release) {
        _cleanup_free_ char *out = NULL, *log = NULL, *forced = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        /* Release=no: the console's GPU is in use by the host console, as in the daemon. */
        ASSERT_EQ(cli(&m, "[Bind]\n[Console]\nRelease=no\n",
                      (const char *const[]) { "bind", "--take-group", GPU, NULL }, &out),
                  1);
        ASSERT_CONTAINS(out, "0000:01:00.0: refused: the host uses it:");
        ASSERT_CONTAINS(out, "--release-console releases the console first");
        log = written(&m);
        ASSERT_STREQ(log, "");
        free(TAKE_PTR(log));
        ASSERT_EQ(cli(&m, "[Bind]\n[Console]\nRelease=no\n",
                      (const char *const[]) { "bind", "--take-group", "--release-console", GPU, NULL }, &forced),
                  0);
        ASSERT_CONTAINS(forced, "released the console: vtcon1, efi-framebuffer.0");
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        machine_close(&m);
}

TEST(bind_a_nic_leaves_the_console) {
        _cleanup_free_ char *out = NULL, *log = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "0000:02:00.0", NULL }, &out), 0);
        ASSERT_CONTAINS(out, "0000:02:00.0: bound to vfio-pci (was e1000e)");
        log = written(&m);
        ASSERT_TRUE(!strstr(log, "vtconsole") && !strstr(log, "platform"));
        machine_close(&m);
}

TEST(release_says_what_it_does_to_the_group) {
        _cleanup_free_ char *bound = NULL, *out = NULL, *all = NULL, *log = NULL;
        _cleanup_free_ VbPciAddress *marks = NULL;
        size_t n = 0;
        Machine m;

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--take-group", GPU, NULL }, &bound), 0);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", AUDIO, NULL }, &out), 0);
        ASSERT_CONTAINS(out, "0000:01:00.1: released: driver_override cleared, now on snd_hda_intel (was vfio-pci)");
        ASSERT_CONTAINS(out,
                        "IOMMU group 1: 0000:01:00.0 on vfio-pci stays as it is; the group cannot go to a guest "
                        "while 0000:01:00.1 on snd_hda_intel");
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        ASSERT_OK(vb_runtime_list_released(m.dir, &marks, &n));
        ASSERT_EQ(n, 1);
        free(TAKE_PTR(marks));

        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "--take-group", GPU, NULL }, &all), 0);
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");
        ASSERT_CONTAINS(all, "IOMMU group 1: it has no other endpoint");
        ASSERT_OK(vb_runtime_list_released(m.dir, &marks, &n));
        ASSERT_EQ(n, 2);
        /* The GPU showed the console: the boot framebuffer and fbcon are bound again. */
        ASSERT_CONTAINS(all, "console: back on vtcon1 (0000:01:00.0 showed it:");
        ASSERT_CONTAINS(all, "bound again: efi-framebuffer.0, vtcon1");
        log = written(&m);
        ASSERT_CONTAINS(log, "bus/platform/drivers/efi-framebuffer/bind=efi-framebuffer.0");
        ASSERT_CONTAINS(log, "class/vtconsole/vtcon1/bind=1");
        machine_close(&m);
}

TEST(release_of_a_nic_leaves_the_console_alone) {
        _cleanup_free_ char *bound = NULL, *out = NULL, *log = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "0000:02:00.0", NULL }, &bound), 0);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "0000:02:00.0", NULL }, &out), 0);
        ASSERT_TRUE(!strstr(out, "console:"));
        log = written(&m);
        ASSERT_TRUE(!strstr(log, "vtconsole") && !strstr(log, "platform"));
        machine_close(&m);
}

TEST(release_refuses_what_is_not_passed_through) {
        _cleanup_free_ char *disk = NULL, *nic = NULL, *group = NULL, *log = NULL;
        _cleanup_free_ VbPciAddress *marks = NULL;
        size_t n = 7;
        Machine m;

        /* The controller of the mounted root file system and the NIC that is up, on their host
         * drivers, never bound by vfio-bind (a mistyped address: completion offers every one):
         * refused, nothing written, no release mark. */
        machine_open(&m, "in-use", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "0000:00:1f.2", NULL }, &disk), 1);
        ASSERT_STREQ(disk, "vfio-bind: 0000:00:1f.2 is not passed through (on ahci); nothing to release");
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "--dry-run", "0000:02:00.0", NULL }, &nic), 1);
        ASSERT_STREQ(nic, "vfio-bind: 0000:02:00.0 is not passed through (on e1000e); nothing to release");
        machine_close(&m);

        /* --take-group where nothing of the group is passed through: the same */
        machine_open(&m, "in-use-group", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "--take-group", "0000:02:00.0", NULL },
                      &group),
                  1);
        ASSERT_STREQ(group,
                     "vfio-bind: 0000:02:00.0 is not passed through (on e1000e), nor is the rest of its IOMMU "
                     "group; nothing to release");
        log = written(&m);
        ASSERT_STREQ(log, "");
        ASSERT_OK(vb_runtime_list_released(m.dir, &marks, &n));
        ASSERT_EQ(n, 0);
        machine_close(&m);
}

TEST(release_leaves_what_is_not_passed_through_in_the_group) {
        _cleanup_free_ char *bound = NULL, *back = NULL, *dry = NULL, *out = NULL, *log = NULL;
        _cleanup_free_ VbPciAddress *marks = NULL;
        size_t n = 7;
        Machine m;

        /* The GPU is passed through, its audio function went back: release --take-group gives the
         * GPU back and leaves the audio function on snd_hda_intel, where it is (no unbind). */
        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--take-group", GPU, NULL }, &bound), 0);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", AUDIO, NULL }, &back), 0);
        fake_kernel_forget(m.k);
        ASSERT_OK(tree_write(m.dir, "fake-kernel.log", ""));

        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "--dry-run", "--take-group", AUDIO, NULL },
                      &dry),
                  0);
        ASSERT_STREQ(dry,
                     "0000:01:00.1: would be left alone: not passed through (on snd_hda_intel)\n"
                     "0000:01:00.0: would be released: on vfio-pci, driver_override vfio-pci; driver_override "
                     "cleared, the host's drivers probed\n"
                     "console: would be given back after (0000:01:00.0 showed it: the boot framebuffer lies in its "
                     "memory)\n"
                     "dry run: nothing written");
        log = written(&m);
        ASSERT_STREQ(log, "");
        ASSERT_DRIVER(&m, GPU, "vfio-pci");

        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "--take-group", AUDIO, NULL }, &out), 0);
        ASSERT_CONTAINS(out, "0000:01:00.1: left alone: not passed through (on snd_hda_intel)\n");
        ASSERT_CONTAINS(out, "0000:01:00.0: released: driver_override cleared, now on bochs-drm (was vfio-pci)\n");
        ASSERT_CONTAINS(out, "IOMMU group 1: it has no other endpoint.\n");
        ASSERT_CONTAINS(out, "console: back on vtcon1");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");
        free(log);
        log = written(&m);
        ASSERT_TRUE(!strstr(log, AUDIO));
        ASSERT_CONTAINS(log, "bus/pci/drivers/vfio-pci/unbind=0000:01:00.0\n");
        /* both marks: the audio function's from its own release */
        ASSERT_OK(vb_runtime_list_released(m.dir, &marks, &n));
        ASSERT_EQ(n, 2);
        machine_close(&m);
}

TEST(a_second_bind_or_release_of_a_group_writes_nothing) {
        _cleanup_free_ char *bound = NULL, *again = NULL, *back = NULL, *back_again = NULL, *alone = NULL, *log = NULL;
        Machine m;

        /* A libvirt hook called once per function of the slot: bind --take-group of the GPU, then
         * of its audio function; release --take-group of each. The second of each finds the group
         * where it should be: exit 0, and no write at all (no unbind, no probe of the host drivers,
         * no console). */
        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--take-group", GPU, NULL }, &bound), 0);
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        ASSERT_DRIVER(&m, AUDIO, "vfio-pci");
        ASSERT_OK(tree_write(m.dir, "fake-kernel.log", ""));
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--take-group", AUDIO, NULL }, &again), 0);
        ASSERT_STREQ(again, "0000:01:00.0: already on vfio-pci\n0000:01:00.1: already on vfio-pci");
        log = written(&m);
        ASSERT_STREQ(log, "");
        free(log);

        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "--take-group", GPU, NULL }, &back), 0);
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");
        ASSERT_OK(tree_write(m.dir, "fake-kernel.log", ""));
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "--take-group", AUDIO, NULL }, &back_again),
                  0);
        ASSERT_STREQ(back_again,
                     "0000:01:00.1: released already (on snd_hda_intel); nothing written\n"
                     "0000:01:00.0: released already (on bochs-drm); nothing written");
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", GPU, NULL }, &alone), 0);
        ASSERT_STREQ(alone, "0000:01:00.0: released already (on bochs-drm); nothing written");
        log = written(&m);
        ASSERT_STREQ(log, "");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");
        machine_close(&m);
}

TEST(check_warns_of_libvirt_domains_that_bypass_vfio_bind) {
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        Machine m;

        /* /etc/libvirt/qemu: a domain passes the slot with managed='yes' (the GPU configured, held
         * at boot: fine; the audio function not), the NIC with managed='no' and no hook installed,
         * a USB device (not vfio-bind's), and a file that is no XML. */
        machine_open(&m, "desktop", NULL);
        ASSERT_OK(tree_write_new(
                m.dir, "etc/libvirt/qemu/win11.xml",
                "<domain type='kvm'>\n"
                "  <name>win11</name>\n"
                "  <devices>\n"
                "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
                "      <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>\n"
                "    </hostdev>\n"
                "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
                "      <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source>\n"
                "    </hostdev>\n"
                "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
                "      <source><address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source>\n"
                "    </hostdev>\n"
                "    <hostdev mode='subsystem' type='usb' managed='yes'>\n"
                "      <source><vendor id='0x046d'/><product id='0xc52b'/></source>\n"
                "    </hostdev>\n"
                "  </devices>\n"
                "</domain>\n"));
        ASSERT_OK(tree_write_new(m.dir, "etc/libvirt/qemu/broken.xml", "<domain><devices></domain>"));
        ASSERT_OK(tree_write_new(m.dir, "etc/libvirt/qemu/networks/default.xml", "<network/>"));
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=" GPU "\nGroup=ignore\n", (const char *const[]) { "check", NULL }, &out), 0);
        ASSERT_CONTAINS(out,
                        "warning: libvirt domain /etc/libvirt/qemu/broken.xml:1: Opening and ending tag mismatch: "
                        "devices line 1 and domain\n");
        ASSERT_CONTAINS(out,
                        "warning: 0000:01:00.1: libvirt domain win11 (/etc/libvirt/qemu/win11.xml:7) passes it "
                        "with managed='yes', and vfio-bind does not hold it at boot:");
        ASSERT_CONTAINS(out,
                        "warning: 0000:02:00.0: libvirt domain win11 (/etc/libvirt/qemu/win11.xml:10) passes it "
                        "with managed='no', and vfio-bind's libvirt hook is not installed "
                        "(/etc/libvirt/hooks/qemu.d/vfio-bind): the domain's start fails with \"must be "
                        "manually detached from the host\"\n");
        ASSERT_NOT_CONTAINS(out, "0000:01:00.0: libvirt domain");
        ASSERT_NOT_CONTAINS(out, "usb");

        /* with the hook installed, managed='no' is what it hands over: no warning */
        ASSERT_OK(tree_write_new(m.dir, "etc/libvirt/hooks/qemu.d/vfio-bind", "#!/bin/sh\n"));
        ASSERT_OK(chmod_in(m.dir, "etc/libvirt/hooks/qemu.d/vfio-bind", 0755));
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=" GPU "\nGroup=ignore\n", (const char *const[]) { "check", NULL }, &out2), 0);
        ASSERT_NOT_CONTAINS(out2, "0000:02:00.0: libvirt domain");
        ASSERT_CONTAINS(out2, "0000:01:00.1: libvirt domain win11");
        machine_close(&m);
}

TEST(bind_refuses_a_device_a_program_holds) {
        _cleanup_free_ char *out = NULL, *dry = NULL, *forced = NULL, *log = NULL;
        Machine m;

        /* Xorg has the GPU's card open: bind refuses the slot, names it and writes nothing;
         * --force takes it. */
        machine_open(&m, "desktop", NULL);
        machine_xorg_holds_card(&m, "display-manager.service");
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--take-group", GPU, NULL }, &out), 1);
        ASSERT_CONTAINS(out,
                        "0000:01:00.0: refused: the host uses it: /dev/dri/card0 is open in PID 812 (Xorg, "
                        "display-manager.service)");
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--dry-run", "--take-group", GPU, NULL }, &dry),
                  1);
        ASSERT_CONTAINS(dry, "/dev/dri/card0 is open in PID 812 (Xorg, display-manager.service)");
        log = written(&m);
        ASSERT_STREQ(log, "");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");

        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--take-group", "--force", GPU, NULL }, &forced),
                  0);
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        ASSERT_DRIVER(&m, AUDIO, "vfio-pci");
        machine_close(&m);
}

TEST(release_refuses_a_group_a_vm_holds) {
        _cleanup_free_ char *bound = NULL, *out = NULL, *forced = NULL, *log = NULL;
        _cleanup_free_ VbPciAddress *marks = NULL;
        size_t n = 7;
        Machine m;

        /* The slot is bound and a VM has its group open: release refuses, names the VM, writes
         * nothing and leaves no mark; --force releases it. */
        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--take-group", GPU, NULL }, &bound), 0);
        fake_kernel_forget(m.k);
        ASSERT_OK(tree_write(m.dir, "fake-kernel.log", ""));
        ASSERT_OK(tree_write_new(m.dir, "proc/900/comm", "qemu-system-x86"));
        ASSERT_OK(tree_write_new(m.dir, "proc/900/cgroup",
                                 "0::/machine.slice/machine-qemu-1-win.scope/libvirt/emulator"));
        ASSERT_OK(tree_mkdirs(m.dir, "proc/900/fd"));
        ASSERT_OK(tree_symlink(m.dir, "/dev/vfio/vfio", "proc/900/fd/20"));
        ASSERT_OK(tree_symlink(m.dir, "/dev/vfio/1", "proc/900/fd/21"));
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "--take-group", AUDIO, NULL }, &out), 1);
        ASSERT_STREQ(out,
                     "vfio-bind: 0000:01:00.1 is held: /dev/vfio/1 is open in PID 900 (qemu-system-x86, "
                     "machine-qemu-1-win.scope); the kernel's unbind waits until that lets it go (a VM: shut it down "
                     "first; --force releases it all the same)");
        log = written(&m);
        ASSERT_STREQ(log, "");
        ASSERT_OK(vb_runtime_list_released(m.dir, &marks, &n));
        ASSERT_EQ(n, 0);
        ASSERT_DRIVER(&m, GPU, "vfio-pci");

        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "release", "--take-group", "--force", AUDIO, NULL },
                      &forced),
                  0);
        ASSERT_CONTAINS(forced, "warning: 0000:01:00.1 is held: /dev/vfio/1 is open in PID 900");
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");
        machine_close(&m);
}

TEST(a_write_that_hangs_ends_the_command) {
        _cleanup_free_ char *out = NULL, *log = NULL;
        int64_t start;
        Machine m;

        /* bochs-drm hangs in its remove for 7 s: the command ends after the deadline (Timeout=,
         * at least 5 s) with exit 3, says which write hangs and where the device is, and writes
         * nothing more (the audio function is not touched). */
        machine_open(&m, "desktop", "hang bus/pci/drivers/bochs-drm/unbind 7000\n");
        start = test_now_ms();
        ASSERT_EQ(cli(&m, "[Bind]\nTimeout=1s\n", (const char *const[]) { "bind", "--take-group", GPU, NULL }, &out),
                  3);
        ASSERT_TRUE(test_now_ms() - start < 6900);
        ASSERT_CONTAINS(out,
                        "vfio-bind: writing \"0000:01:00.0\" to /sys/bus/pci/drivers/bochs-drm/unbind has not returned "
                        "after 5s; nothing more is written.");
        ASSERT_CONTAINS(out, "vfio-bind: 0000:01:00.0 is now on bochs-drm");
        usleep(1500 * 1000);
        log = written(&m);
        ASSERT_CONTAINS(log, "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n");
        ASSERT_NOT_CONTAINS(log, "bochs-drm/unbind");
        ASSERT_NOT_CONTAINS(log, "drivers_probe");
        ASSERT_NOT_CONTAINS(log, AUDIO);
        ASSERT_DRIVER(&m, AUDIO, "snd_hda_intel");
        machine_close(&m);
}

TEST(handoff_stops_the_units_that_hold_it_and_release_starts_them) {
        static const char conf[] = "[Bind]\n[Handoff]\nStopUnits=nvidia-persistenced.service display-manager.service\n";
        _cleanup_free_ char *bound = NULL, *back = NULL, *units = NULL, *record = NULL, *again = NULL, *crash = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        machine_xorg_holds_card(&m, "display-manager.service");
        if (cli(&m, conf, (const char *const[]) { "bind", "--take-group", GPU, NULL }, &bound) != 0)
                TEST_FAIL("bind: %s", bound);
        ASSERT_CONTAINS(bound, "0000:01:00.0: stopped display-manager.service, which held it ([Handoff] StopUnits=)\n");
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        ASSERT_DRIVER(&m, AUDIO, "vfio-pci");
        units = tree_read(m.dir, "units.log");
        ASSERT_STREQ(units, "stop display-manager.service"); /* only the one that holds it */
        record = tree_read(m.dir, "stopped/0000:01:00.0");
        ASSERT_STREQ(record, "display-manager.service");

        ASSERT_EQ(cli(&m, conf, (const char *const[]) { "release", "--take-group", GPU, NULL }, &back), 0);
        ASSERT_DRIVER(&m, GPU, "bochs-drm");
        ASSERT_CONTAINS(back, "console: back on vtcon1");
        ASSERT_CONTAINS(back, "started display-manager.service again ([Handoff] StopUnits=)");
        /* the console first, then the unit */
        ASSERT_TRUE(strstr(back, "console: back") < strstr(back, "started display-manager.service"));
        free(units);
        units = tree_read(m.dir, "units.log");
        ASSERT_STREQ(units, "stop display-manager.service\nstart display-manager.service");
        ASSERT_FALSE(tree_exists(m.dir, "stopped/0000:01:00.0"));

        /* a bind that stopped units and crashed before the bind: the release starts them all the
         * same, in the reverse order */
        ASSERT_EQ(cli(&m, conf, (const char *const[]) { "bind", "--take-group", GPU, NULL }, &again), 0);
        ASSERT_OK(tree_write_new(m.dir, "stopped/0000:01:00.0", "nvidia-persistenced.service\n"));
        ASSERT_OK(tree_write_new(m.dir, "stopped/0000:01:00.1",
                                 "display-manager.service\nnvidia-persistenced.service\n"));
        ASSERT_EQ(cli(&m, conf, (const char *const[]) { "release", "--take-group", GPU, NULL }, &crash), 0);
        free(units);
        units = tree_read(m.dir, "units.log");
        ASSERT_STREQ(units,
                     "stop display-manager.service\nstart display-manager.service\n"
                     "start display-manager.service\nstart nvidia-persistenced.service");
        machine_close(&m);
}

TEST(handoff_never_stops_a_unit_it_is_not_told_of) {
        static const char conf[] = "[Bind]\n[Handoff]\nStopUnits=display-manager.service\n";
        _cleanup_free_ char *out = NULL, *log = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        machine_xorg_holds_card(&m, "gdm.service");
        ASSERT_EQ(cli(&m, conf, (const char *const[]) { "bind", "--take-group", GPU, NULL }, &out), 1);
        ASSERT_CONTAINS(out, "/dev/dri/card0 is open in PID 812 (Xorg, gdm.service)");
        ASSERT_CONTAINS(out,
                        "vfio-bind: 0000:01:00.0: gdm.service is not in [Handoff] StopUnits=, so it is not stopped");
        ASSERT_FALSE(tree_exists(m.dir, "units.log"));
        ASSERT_FALSE(tree_exists(m.dir, "stopped"));
        log = written(&m);
        ASSERT_STREQ(log, "");
        machine_close(&m);
}

TEST(variant_driver_is_chosen_loaded_and_verified) {
        _cleanup_free_ char *check = NULL, *out = NULL, *json = NULL, *forced = NULL;
        Machine m;

        /* A variant driver whose table matches the GPU (1234:1111): its module is called
         * gpu_vfio_pci, its driver gpu-vfio-pci. */
        machine_open(&m, "desktop",
                     "module gpu-vfio-pci gpu_vfio_pci\n"
                     "alias vfio_pci:v00001234d00001111sv*sd*bc*sc*i* gpu_vfio_pci\n");
        ASSERT_EQ(cli(&m, "[Bind]\nGroup=take\nDevice=" GPU "\n", (const char *const[]) { "check", NULL }, &check), 0);
        ASSERT_CONTAINS(check, "bochs-drm: bind to the driver of module gpu_vfio_pci, unbinding bochs-drm");
        ASSERT_CONTAINS(check,
                        "0000:01:00.0: driver: the variant driver of module gpu_vfio_pci, not loaded yet (its alias "
                        "vfio_pci:v00001234d00001111sv*sd*bc*sc*i* is the most specific of 2 matches)");
        ASSERT_CONTAINS(check, "0000:01:00.1: driver: vfio-pci (no variant driver's alias matches");
        ASSERT_CONTAINS(check, "module: load module gpu_vfio_pci, the module of vfio-pci first");

        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--take-group", GPU, NULL }, &out), 0);
        ASSERT_CONTAINS(out, "0000:01:00.0: bound to gpu-vfio-pci (was bochs-drm)");
        ASSERT_CONTAINS(out, "0000:01:00.1: bound to vfio-pci (was snd_hda_intel)");
        ASSERT_DRIVER(&m, GPU, "gpu-vfio-pci");
        ASSERT_OVERRIDE(&m, GPU, "gpu-vfio-pci");
        ASSERT_DRIVER(&m, AUDIO, "vfio-pci");

        /* status: on its driver, the group ready (a variant is a VFIO driver), the choice named. */
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=" GPU " " AUDIO "\n", (const char *const[]) { "status", "--json", NULL },
                      &json),
                  0);
        ASSERT_CONTAINS(json,
                        "\"driver\": \"gpu-vfio-pci\", \"wanted\": \"gpu-vfio-pci\", \"wanted_module\": "
                        "\"gpu_vfio_pci\"");
        ASSERT_CONTAINS(json, "\"group_viable\": true");

        /* Driver=vfio-pci forces plain vfio-pci: a device on the variant is not on it. */
        ASSERT_EQ(cli(&m, "[Bind]\nDriver=vfio-pci\nDevice=" GPU "\n", (const char *const[]) { "check", NULL },
                      &forced),
                  0);
        ASSERT_CONTAINS(forced, "0000:01:00.0 [1234:1111] class 030000, group 1, gpu-vfio-pci: bind to vfio-pci");
        machine_close(&m);
}

TEST(variant_that_cannot_be_had_gives_way_to_vfio_pci) {
        _cleanup_free_ char *out = NULL;
        Machine m;

        /* The index names a module that is not installed. */
        machine_open(&m, "desktop", "alias vfio_pci:v00001234d00001111sv*sd*bc*sc*i* gone_vfio_pci\n");
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--take-group", GPU, NULL }, &out), 0);
        ASSERT_CONTAINS(out, "0000:01:00.0: bound to vfio-pci (was bochs-drm)");
        ASSERT_CONTAINS(out,
                        "0000:01:00.0: gone_vfio_pci, which Driver=auto chose, could not be had (No such file or "
                        "directory): vfio-pci instead");
        ASSERT_DRIVER(&m, GPU, "vfio-pci");
        machine_close(&m);
}

TEST(reset_methods_and_device_nodes) {
        _cleanup_free_ char *none = NULL, *text = NULL, *json = NULL, *groups = NULL, *cmd = NULL, *checked = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        /* The tree's devices have no reset_method: check warns for each device to be passed. */
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=0000:02:00.0\n", (const char *const[]) { "check", NULL }, &none), 0);
        ASSERT_CONTAINS(none, "0000:02:00.0: reset: none\n");
        ASSERT_CONTAINS(none, "warning: 0000:02:00.0 has no reset method (the kernel shows no reset_method)");
        ASSERT_CONTAINS(none, "a guest reboot may need a host reboot");
        /* The same warning from the plan, wherever the plan is shown: bind --dry-run, status --json. */
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "--dry-run", "0000:02:00.0", NULL }, &text), 0);
        ASSERT_CONTAINS(text, "warning: 0000:02:00.0 has no reset method (the kernel shows no reset_method)");
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=0000:02:00.0\n", (const char *const[]) { "status", "--json", NULL }, &json),
                  1);
        ASSERT_CONTAINS(json, "\"warnings\": [\"0000:02:00.0 has no reset method (the kernel shows no reset_method)");
        free(TAKE_PTR(text));
        free(TAKE_PTR(json));

        /* The NIC can do FLR and a bus reset; bound, it has an IOMMUFD node. */
        ASSERT_TRUE(asprintf(&cmd,
                             "cd %s/sys/bus/pci/devices/0000:02:00.0/ && printf 'flr bus\\n' >reset_method && "
                             ": >reset",
                             m.dir) > 0);
        ASSERT_EQ(system(cmd), 0);
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "bind", "0000:02:00.0", NULL }, &text), 0);
        free(TAKE_PTR(text));
        free(TAKE_PTR(cmd));
        ASSERT_TRUE(asprintf(&cmd, "mkdir -p %s/sys/bus/pci/devices/0000:02:00.0/vfio-dev/vfio3", m.dir) > 0);
        ASSERT_EQ(system(cmd), 0);
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=0000:02:00.0\n", (const char *const[]) { "status", NULL }, &text), 0);
        ASSERT_CONTAINS(text, "reset: flr bus; nodes: /dev/vfio/4, /dev/vfio/devices/vfio3");
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=0000:02:00.0\n", (const char *const[]) { "status", "--json", NULL }, &json),
                  0);
        ASSERT_CONTAINS(json,
                        "\"reset_methods\": [\"flr\", \"bus\"], \"group_node\": \"/dev/vfio/4\", "
                        "\"device_node\": \"/dev/vfio/devices/vfio3\"");
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=0000:02:00.0\n", (const char *const[]) { "check", NULL }, &checked), 0);
        ASSERT_CONTAINS(checked, "0000:02:00.0: reset: flr bus\n");
        ASSERT_TRUE(!strstr(checked, "has no reset method"));
        ASSERT_EQ(cli(&m, "[Bind]\n", (const char *const[]) { "groups", NULL }, &groups), 0);
        ASSERT_CONTAINS(groups, "reset:flr,bus");
        ASSERT_CONTAINS(groups, "no-reset");
        machine_close(&m);
}

TEST(usage_errors) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "frob", "x", NULL }, &a), 2);
        ASSERT_CONTAINS(a, "unknown command \"frob\"");
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "status", "--take-group", NULL }, &b), 2);
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "bind", "zz:00.0", NULL }, &c), 2);
        ASSERT_CONTAINS(c, "is not a PCI address");
        machine_close(&m);
}

/* An argument the programs cannot parse is quoted as a bounded excerpt, never whole. */
TEST(bad_arguments_are_quoted_bounded) {
        _cleanup_free_ char *a = NULL, *b = NULL, *arg = NULL;
        Machine m;

        arg = malloc(4001);
        ASSERT_TRUE(arg);
        memset(arg, 'x', 4000);
        arg[4000] = '\0';
        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "bind", arg, NULL }, &a), 2);
        ASSERT_CONTAINS(a, "is not a PCI address");
        ASSERT_TRUE(strlen(a) < 600);
        ASSERT_EQ(cli(&m, "", (const char *const[]) { arg, NULL }, &b), 2);
        ASSERT_CONTAINS(b, "unknown command \"xxxx");
        ASSERT_TRUE(strlen(b) < 600);
        machine_close(&m);
}

/* groups marks what the host uses, by the interlocks check refuses by, instead of inviting a bind;
 * with the IOMMU off it still lists the devices, under the reason, and names no NixOS option. */
TEST(groups_marks_what_the_host_uses) {
        _cleanup_free_ char *out = NULL, *off = NULL;
        Machine m;

        machine_open(&m, "in-use", NULL);
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "groups", NULL }, &out), 0);
        ASSERT_CONTAINS(out, "IOMMU group 6: used by the host (ahci); check and vfio-bindd refuse to bind it");
        ASSERT_CONTAINS(out, "IOMMU group 4: used by the host (e1000e)");
        ASSERT_CONTAINS(out, "ahci           in-use");
        ASSERT_CONTAINS(out, "0000:00:1f.2 is used by the host: /dev/sda2 is mounted on /");
        ASSERT_CONTAINS(out, "0000:02:00.0 is used by the host: network interface eth0 is up with");
        ASSERT_NOT_CONTAINS(out, "bind it to pass it");
        machine_close(&m);

        machine_open(&m, "no-iommu", NULL);
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "groups", NULL }, &off), 1);
        ASSERT_CONTAINS(off, "No IOMMU groups: the IOMMU is off or absent");
        ASSERT_CONTAINS(off, "No IOMMU group: the IOMMU is off; none of these can go to a guest until it is on");
        ASSERT_CONTAINS(off, "0000:01:00.0");
        ASSERT_CONTAINS(off, "0000:02:00.0");
        ASSERT_NOT_CONTAINS(off, "NixOS");
        machine_close(&m);
}

/* Small wrong answers: status --json always prints a JSON document (the errors in it), an empty
 * --config= and a huge argument are refused without echoing them. */
TEST(status_json_and_bad_arguments) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *big = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=zz\n", (const char *const[]) { "status", "--json", NULL }, &a), 1);
        ASSERT_CONTAINS(a, "{\n  \"ok\": false,\n  \"errors\": [\"");
        ASSERT_CONTAINS(a, "vfio-bind.conf:2: invalid device selector \\\"zz\\\"");
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "--config=", "status", NULL }, &b), 2);
        ASSERT_CONTAINS(b, "--config= needs a path");
        big = malloc(100 * 1024 + 1);
        ASSERT_TRUE(big);
        memset(big, 'a', 100 * 1024);
        big[100 * 1024] = '\0';
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "bind", big, NULL }, &c), 2);
        ASSERT_CONTAINS(c, "argument 3 is too long (102400 bytes, the limit is 4096)");
        ASSERT_TRUE(strlen(c) < 1024);
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "--root=/dev/zero", "status", "--json", NULL }, &d), 1);
        ASSERT_CONTAINS(d, "--root=/dev/zero: is neither a directory nor a regular file");
        ASSERT_CONTAINS(d, "\"ok\": false");
        ASSERT_NOT_CONTAINS(d, "Invalid argument");
        machine_close(&m);
}

/* --driver= takes a driver's name: not an option-like word, not a module's name; nothing is
 * written. */
TEST(bind_driver_option_is_checked) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *log = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "--driver=-1", "bind", GPU, NULL }, &a), 2);
        ASSERT_CONTAINS(a, "invalid driver name \"-1\": starts with \"-\"");
        ASSERT_EQ(cli(&m, "", (const char *const[]) { "--driver=vfio_pci", "bind", GPU, NULL }, &b), 2);
        ASSERT_CONTAINS(b, "did you mean vfio-pci?");
        /* check refuses the same in the file, naming file and line. */
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=01:00.0\nDriver=vfio_pci\n", (const char *const[]) { "check", NULL }, &c), 1);
        ASSERT_CONTAINS(c, "vfio-bind.conf:3: invalid driver name \"vfio_pci\"");
        ASSERT_CONTAINS(c, "did you mean vfio-pci?");
        log = written(&m);
        ASSERT_STREQ(log, "");
        machine_close(&m);
}

/* With the IOMMU off, every verb's advice fits the processor: Intel needs intel_iommu=on, AMD has
 * no such parameter (amd_iommu=on is not a kernel option) but a firmware switch; an unknown
 * vendor gets both, said as such. */
TEST(iommu_off_advice_follows_the_processor) {
        static const struct {
                const char *cpuinfo; /* NULL: no cpuinfo at all */
                const char *has, *lacks;
        } cases[] = {
                { "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n", "add intel_iommu=on", "amd_iommu" },
                { "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n",
                  "AMD needs no kernel parameter (amd_iommu=on is not one", "intel_iommu" },
                { "processor\t: 0\nvendor_id\t: HygonGenuine\n", "AMD-Vi", "intel_iommu" },
                { NULL, "VT-d on Intel, AMD-Vi on AMD", "add intel_iommu=on or amd_iommu=on" },
        };
        /* The firmware's table outranks the processor: a VM's processor may say AuthenticAMD beside
         * an emulated VT-d (QEMU's TCG with intel-iommu), and the reverse. */
        static const struct {
                const char *table, *cpuinfo, *has, *lacks;
        } tables[] = {
                { "DMAR", "vendor_id\t: AuthenticAMD\n", "add intel_iommu=on", "amd_iommu" },
                { "IVRS", "vendor_id\t: GenuineIntel\n", "AMD needs no kernel parameter", "intel_iommu" },
                { "DMAR", NULL, "add intel_iommu=on", "AMD-Vi on AMD" },
        };
        static const char *const verbs[] = { "check", "status", "groups" };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                for (size_t v = 0; v < ELEMENTSOF(verbs); v++) {
                        _cleanup_free_ char *out = NULL;
                        Machine m;

                        machine_open(&m, "no-iommu", NULL);
                        if (cases[i].cpuinfo)
                                ASSERT_OK(tree_write(m.dir, "proc/cpuinfo", cases[i].cpuinfo));
                        (void) cli(&m, "[Bind]\nDevice=01:00.0\n", (const char *const[]) { verbs[v], NULL }, &out);
                        ASSERT_CONTAINS(out, cases[i].has);
                        ASSERT_CONTAINS(out, "iommu=pt");
                        ASSERT_NOT_CONTAINS(out, cases[i].lacks);
                        ASSERT_NOT_CONTAINS(out, "add intel_iommu=on or amd_iommu=on");
                        machine_close(&m);
                }
        for (size_t i = 0; i < ELEMENTSOF(tables); i++)
                for (size_t v = 0; v < ELEMENTSOF(verbs); v++) {
                        _cleanup_free_ char *out = NULL, *path = NULL;
                        Machine m;

                        machine_open(&m, "no-iommu", NULL);
                        static const char *const dirs[] = { "sys/firmware", "sys/firmware/acpi",
                                                            "sys/firmware/acpi/tables" };
                        for (size_t d = 0; d < ELEMENTSOF(dirs); d++) {
                                _cleanup_free_ char *full = NULL;
                                ASSERT_TRUE(asprintf(&full, "%s/%s", m.dir, dirs[d]) > 0);
                                ASSERT_TRUE(mkdir(full, 0755) == 0 || errno == EEXIST);
                        }
                        ASSERT_TRUE(asprintf(&path, "sys/firmware/acpi/tables/%s", tables[i].table) > 0);
                        ASSERT_OK(tree_write(m.dir, path, "(table)"));
                        if (tables[i].cpuinfo)
                                ASSERT_OK(tree_write(m.dir, "proc/cpuinfo", tables[i].cpuinfo));
                        (void) cli(&m, "[Bind]\nDevice=01:00.0\n", (const char *const[]) { verbs[v], NULL }, &out);
                        ASSERT_CONTAINS(out, tables[i].has);
                        ASSERT_NOT_CONTAINS(out, tables[i].lacks);
                        machine_close(&m);
                }
}

TEST(check_warns_of_a_group_that_group_ignore_leaves_unviable) {
        _cleanup_free_ char *out = NULL;
        Machine m;

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(&m, "[Bind]\nDevice=01:00.0\nGroup=ignore\n", (const char *const[]) { "check", NULL }, &out), 0);
        ASSERT_CONTAINS(out,
                        "warning: 0000:01:00.0: its IOMMU group 1 cannot go to a guest as it stands: 0000:01:00.1 "
                        "on snd_hda_intel (Group=ignore does not check it;");
        machine_close(&m);
}

TEST(check_and_status_of_virtual_functions) {
        _cleanup_free_ char *out = NULL, *out2 = NULL, *out3 = NULL, *out4 = NULL, *log = NULL;
        const char *conf = "[Bind]\nVirtualFunctions=03:00.0 2\nVirtualFunctions=03:00.1 9\n";
        Machine m;

        machine_open(&m, "sriov", NULL);
        /* groups: the PFs and what the configuration does with them */
        free(out);
        out = NULL;
        ASSERT_EQ(cli(&m, conf, (const char *const[]) { "groups", NULL }, &out), 0);
        ASSERT_CONTAINS(out, "SR-IOV:0/7-VFs VirtualFunctions=");
        free(out);
        out = NULL;
        /* check: what would be created, and the refusal with its FILE:LINE */
        ASSERT_EQ(cli(&m, conf, (const char *const[]) { "check", NULL }, &out), 1);
        ASSERT_CONTAINS(out,
                        "create 2 virtual functions for vfio-pci (sriov_totalvfs 7; sriov_drivers_autoprobe off "
                        "while they are created): 0000:03:10.0 0000:03:10.2");
        ASSERT_CONTAINS(out,
                        "vfio-bind.conf:3: VirtualFunctions= for 0000:03:00.1: refused: VirtualFunctions= asks "
                        "for 9 virtual functions, and 0000:03:00.1 has at most 7 (sriov_totalvfs)");
        /* status before the daemon ran */
        ASSERT_EQ(cli(&m, conf, (const char *const[]) { "status", NULL }, &out2), 1);
        ASSERT_CONTAINS(out2, "Virtual functions of 0000:03:00.0 (igb): create 2 virtual functions");
        /* after the VFs exist and are bound */
        ASSERT_OK(vb_sysfs_write(m.ctx, "bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "0"));
        ASSERT_OK(vb_sysfs_write(m.ctx, "bus/pci/devices/0000:03:00.0/sriov_numvfs", "2"));
        ASSERT_EQ(cli(&m, "[Bind]\nVirtualFunctions=03:00.0 2\n", (const char *const[]) { "status", NULL }, &out3), 1);
        ASSERT_CONTAINS(out3, "Virtual functions of 0000:03:00.0 (igb): 0/2 on vfio-pci");
        /* bind by hand, one VF at a time, as any device */
        for (const char *const *vf = (const char *const[]) { "0000:03:10.0", "0000:03:10.2", NULL }; *vf; vf++) {
                free(out4);
                out4 = NULL;
                ASSERT_EQ(cli(&m, "[Bind]\nVirtualFunctions=03:00.0 2\n", (const char *const[]) { "bind", *vf, NULL },
                              &out4),
                          0);
        }
        free(out3);
        out3 = NULL;
        ASSERT_EQ(cli(&m, "[Bind]\nVirtualFunctions=03:00.0 2\n", (const char *const[]) { "status", NULL }, &out3), 0);
        ASSERT_CONTAINS(out3, "Virtual functions of 0000:03:00.0 (igb): 2/2 on vfio-pci");
        free(out);
        out = NULL;
        ASSERT_EQ(cli(&m, conf, (const char *const[]) { "groups", NULL }, &out), 0);
        ASSERT_CONTAINS(out, "vfio-pci  configured VF-of:0000:03:00.0");
        ASSERT_CONTAINS(out, "SR-IOV:2/7-VFs VirtualFunctions=");
        free(out3);
        out3 = NULL;
        ASSERT_EQ(cli(&m, "[Bind]\nVirtualFunctions=03:00.0 2\n", (const char *const[]) { "status", "--json", NULL },
                      &out3),
                  0);
        ASSERT_CONTAINS(out3, "\"pf\": \"0000:03:00.0\", \"count\": 2");
        ASSERT_CONTAINS(out3, "\"numvfs\": 2, \"vfs\": [\"0000:03:10.0\", \"0000:03:10.2\"], \"vfs_on_driver\": 2");
        /* release of a VF: as any device; the count stays */
        ASSERT_OK(vb_sysfs_write(m.ctx, "bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "1"));
        free(out4);
        out4 = NULL;
        ASSERT_EQ(cli(&m, "[Bind]\nVirtualFunctions=03:00.0 2\n",
                      (const char *const[]) { "release", "0000:03:10.0", NULL }, &out4),
                  0);
        ASSERT_DRIVER(&m, "0000:03:10.0", "igbvf");
        ASSERT_DRIVER(&m, "0000:03:10.2", "vfio-pci");
        free(out3);
        out3 = NULL;
        ASSERT_EQ(cli(&m, "[Bind]\nVirtualFunctions=03:00.0 2\n", (const char *const[]) { "status", NULL }, &out3), 1);
        ASSERT_CONTAINS(out3, "Virtual functions of 0000:03:00.0 (igb): 1/2 on vfio-pci");
        ASSERT_CONTAINS(out3, "released by hand");
        {
                _cleanup_free_ char *n = fake_kernel_read(m.k, "bus/pci/devices/0000:03:00.0/sriov_numvfs");
                ASSERT_STREQ(n, "2");
        }
        /* the CLI never changed the VF count: the one write of it is the test's own */
        log = written(&m);
        ASSERT_TRUE(strstr(log, "sriov_numvfs") && !strstr(strstr(log, "sriov_numvfs") + 1, "sriov_numvfs"));
        machine_close(&m);
}

TESTS_MAIN()
