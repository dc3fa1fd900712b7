/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon against a kernel that misbehaves: the real vfio-bindd (vbd_main) runs in a child
 * process on a copied fake tree, with the fake kernel (tests/fake-kernel.h) injecting EBUSY,
 * ENODEV and EINVAL into each write of a bind ("fail" rules), a device that vanishes between
 * enumeration and bind, a driver module that does not exist, vfio-pci refusing a device, and a
 * write that blocks in the kernel (our own VbKernelOps wrapped around the fake kernel's). Each
 * time the daemon must report the truth in STATUS= and in its log, never leave a device with
 * the override set and no driver without saying so, and reach READY=1 in time.
 *
 * Also the interlocks at the daemon level: a device the host uses is refused without a single
 * write, and Force= binds it with a warning.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "fake-kernel.h"
#include "macro.h"
#include "tests.h"
#include "tree.h"
#include "vfio-bindd.h"

#define WAIT_MS 20000

/* A kernel whose write to one path blocks (nvidia's unbind is known to hang). */
typedef struct HangKernel {
        FakeKernel *k;
        const char *path; /* normalized or as written; NULL: nothing hangs */
        unsigned seconds;
} HangKernel;

static int hang_write(void *userdata, int rootfd, const char *path, const char *value) {
        HangKernel *h = userdata;

        if (h->path && strstr(path, h->path))
                sleep(h->seconds);
        return fake_kernel_ops.write_attr(h->k, rootfd, path, value);
}

static int hang_load(void *userdata, VbContext *ctx, const char *driver) {
        HangKernel *h = userdata;
        return fake_kernel_ops.load_driver(h->k, ctx, driver);
}

static const VbKernelOps hang_ops = {
        .write_attr = hang_write,
        .load_driver = hang_load,
};

typedef struct Daemon {
        char *dir;
        FakeKernel *k; /* the test's view of the tree */
        int notify_fd;
        pid_t pid;
        char *notify; /* notifications, one per line, "|" between fields */
        char *status; /* the last STATUS= */
        bool ready;
        int64_t started_ms, ready_ms;
        int exit_status; /* -1 while running */
} Daemon;

static pid_t leftover_pid = -1;

static void kill_leftover(void) {
        if (leftover_pid > 0) {
                kill(leftover_pid, SIGKILL);
                (void) waitpid(leftover_pid, NULL, 0);
                leftover_pid = -1;
        }
}

/* A daemon that a failed test (TEST_FAIL longjmps past daemon_done()) left running. */
TEARDOWN() {
        kill_leftover();
}

/* A copy of CASE_NAME with CONF as vfio-bind.conf and FAKE_CONF appended to fake-kernel.conf. */
static void daemon_prepare(Daemon *d, const char *case_name, const char *conf, const char *fake_conf) {
        _cleanup_free_ char *sock = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        kill_leftover(); /* an earlier daemon of this test */
        *d = (Daemon) { .notify_fd = -EBADF, .pid = -1, .exit_status = -1 };
        ASSERT_OK(tree_new(case_name, &d->dir));
        ASSERT_OK(tree_write(d->dir, "vfio-bind.conf", conf));
        if (fake_conf)
                ASSERT_OK(tree_append(d->dir, "fake-kernel.conf", fake_conf));
        ASSERT_OK(fake_kernel_new(&d->k, d->dir));
        ASSERT_TRUE(asprintf(&sock, "%s/notify", d->dir) > 0);
        ASSERT_TRUE(strlen(sock) < sizeof(sa.sun_path));
        strcpy(sa.sun_path, sock);
        d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ASSERT_TRUE(d->notify_fd >= 0);
        ASSERT_OK(bind(d->notify_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? -errno : 0);
        d->notify = strdup("");
        ASSERT_TRUE(d->notify);
}

/* Run vbd_main in a child; HANG_PATH (may be NULL) blocks for HANG_SECONDS. EXTRA: "--once" or
 * NULL. */
static void daemon_start(Daemon *d, const char *extra, const char *hang_path, unsigned hang_seconds) {
        _cleanup_free_ char *config_arg = NULL, *sock = NULL, *err = NULL, *run = NULL;

        ASSERT_TRUE(asprintf(&config_arg, "--config=%s/vfio-bind.conf", d->dir) > 0);
        ASSERT_TRUE(asprintf(&sock, "%s/notify", d->dir) > 0);
        ASSERT_TRUE(asprintf(&err, "%s/stderr", d->dir) > 0);
        ASSERT_TRUE(asprintf(&run, "%s/run", d->dir) > 0);
        (void) mkdir(run, 0755);

        fflush(NULL);
        d->started_ms = test_now_ms();
        d->pid = fork();
        ASSERT_TRUE(d->pid >= 0);
        if (d->pid == 0) {
                char *argv[] = { (char *) "vfio-bindd", config_arg, (char *) extra, NULL };
                HangKernel h = { .path = hang_path, .seconds = hang_seconds };
                int fd, r;

                fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
                        vb_coverage_exit(127);
                setenv("NOTIFY_SOCKET", sock, 1);
                unsetenv("JOURNAL_STREAM");
                if (fake_kernel_new(&h.k, d->dir) < 0)
                        vb_coverage_exit(126);
                r = vbd_main(extra ? 3 : 2, argv,
                             &(VbPlatform) {
                                     .sysfs_root = fake_kernel_sysfs_root(h.k),
                                     .procfs_root = fake_kernel_procfs_root(h.k),
                                     .ops = &hang_ops,
                                     .ops_userdata = &h,
                                     .runtime_dir = run,
                             });
                fflush(NULL);
                /* A stuck write may still be sleeping in a thread: leave without cleaning up. */
                vb_coverage_exit(fake_kernel_n_violations(h.k) > 0 ? 3 : r);
        }
        leftover_pid = d->pid;
}

static void daemon_drain(Daemon *d) {
        char buf[8192];
        ssize_t n;

        while ((n = recv(d->notify_fd, buf, sizeof(buf) - 1, 0)) > 0) {
                char *s, *st;

                buf[n] = '\0';
                st = strstr(buf, "STATUS=");
                if (st) {
                        free(d->status);
                        d->status = strndup(st + 7, strcspn(st + 7, "\n"));
                }
                for (char *c = buf; *c; c++)
                        if (*c == '\n')
                                *c = '|';
                if (strstr(buf, "READY=1") && !d->ready) {
                        d->ready = true;
                        d->ready_ms = test_now_ms();
                }
                ASSERT_TRUE(asprintf(&s, "%s%s\n", d->notify, buf) > 0);
                free(d->notify);
                d->notify = s;
        }
}

static bool daemon_exited(Daemon *d) {
        int st;

        if (d->exit_status >= 0)
                return true;
        if (d->pid > 0 && waitpid(d->pid, &st, WNOHANG) == d->pid) {
                d->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                d->pid = -1;
                leftover_pid = -1;
                return true;
        }
        return false;
}

static bool daemon_wait_ready(Daemon *d) {
        int64_t end = test_now_ms() + WAIT_MS;

        for (;;) {
                struct pollfd p = { .fd = d->notify_fd, .events = POLLIN };

                daemon_drain(d);
                if (d->ready)
                        return true;
                if (daemon_exited(d)) {
                        daemon_drain(d);
                        return d->ready;
                }
                if (test_now_ms() > end)
                        return false;
                (void) poll(&p, 1, 20);
        }
}

static int daemon_wait_exit(Daemon *d) {
        int64_t end = test_now_ms() + WAIT_MS;

        while (!daemon_exited(d)) {
                if (test_now_ms() > end) {
                        kill(d->pid, SIGKILL);
                        TEST_FAIL("the daemon did not exit");
                }
                usleep(10 * 1000);
        }
        daemon_drain(d);
        return d->exit_status;
}

static char *daemon_stderr(const Daemon *d) {
        char *s = tree_read(d->dir, "stderr");
        return s ?: strdup("");
}

static void daemon_show(const Daemon *d) {
        _cleanup_free_ char *err = daemon_stderr(d), *log = fake_kernel_read_log(d->dir);
        fprintf(stderr, "--- notifications:\n%s--- daemon stderr:\n%s\n--- fake kernel log:\n%s---\n",
                strempty(d->notify), strempty(err), strempty(log));
}

static void daemon_done(Daemon *d) {
        kill_leftover();
        if (d->notify_fd >= 0)
                close(d->notify_fd);
        fake_kernel_free(d->k);
        free(d->notify);
        free(d->status);
        tree_free(d->dir);
        *d = (Daemon) {};
}

#define CHECK(d, expr)                                            \
        do {                                                      \
                if (!(expr)) {                                    \
                        daemon_show(d);                           \
                        TEST_FAIL("assertion failed: %s", #expr); \
                }                                                 \
        } while (0)

#define CHECK_CONTAINS(d, haystack, needle)                                              \
        do {                                                                             \
                const char *_h = (haystack);                                             \
                if (!_h || !strstr(_h, (needle))) {                                      \
                        daemon_show(d);                                                  \
                        TEST_FAIL("expected %s to contain \"%s\"", #haystack, (needle)); \
                }                                                                        \
        } while (0)

/* The promise: a device left with driver_override naming the driver and no driver bound is
 * always said so; a selected device that is not on the driver is named in STATUS. */
static void check_truthful(Daemon *d, const char *const *addrs, const char *driver) {
        for (const char *const *a = addrs; *a; a++) {
                _cleanup_free_ char *cur = fake_kernel_driver(d->k, *a), *ovr = fake_kernel_override(d->k, *a);

                if (!fake_kernel_device_exists(d->k, *a)) {
                        CHECK_CONTAINS(d, d->status, *a);
                        continue;
                }
                if (!cur && ovr && streq(ovr, driver)) {
                        _cleanup_free_ char *want = NULL;
                        ASSERT_TRUE(asprintf(&want, "%s binding to", *a) > 0);
                        CHECK_CONTAINS(d, d->status, want);
                        CHECK_CONTAINS(d, d->status, "driver_override left at the driver");
                }
                if (!streq_ptr(cur, driver)) {
                        _cleanup_free_ char *want = NULL;
                        ASSERT_TRUE(asprintf(&want, "%s ", *a) > 0);
                        CHECK_CONTAINS(d, d->status, want);
                }
        }
}

static const char *const gpu_and_audio[] = { "0000:01:00.0", "0000:01:00.1", NULL };

/* Every write of a bind, failing with each errno once: READY=1, the failure named, nothing left
 * half-done without saying so. */
TEST(each_write_fails_with_each_errno) {
        static const struct {
                const char *path;
                const char *words; /* what STATUS must say */
        } writes[] = {
                { "bus/pci/devices/0000:01:00.0/driver_override", "writing driver_override failed" },
                { "bus/pci/drivers/bochs-drm/unbind", "unbinding the host driver failed" },
                { "bus/pci/drivers_probe", "writing drivers_probe failed" },
        };
        static const struct {
                const char *name;
                int error;
        } errors[] = {
                { "EBUSY", EBUSY },
                { "ENODEV", ENODEV },
                { "EINVAL", EINVAL },
        };
        unsigned runs = 0;

        for (size_t w = 0; w < ELEMENTSOF(writes); w++)
                for (size_t e = 0; e < ELEMENTSOF(errors); e++) {
                        _cleanup_free_ char *rule = NULL, *err = NULL, *gpu = NULL, *ovr = NULL;
                        Daemon d;

                        ASSERT_TRUE(asprintf(&rule, "fail %s %s\n", writes[w].path, errors[e].name) > 0);
                        fprintf(stderr, "-- %s", rule);
                        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", rule);
                        daemon_start(&d, "--once", NULL, 0);
                        CHECK(&d, daemon_wait_ready(&d));
                        /* --once: the exit code says whether everything ended on the driver. */
                        CHECK(&d, daemon_wait_exit(&d) == 1);
                        CHECK_CONTAINS(&d, d.status, "0000:01:00.0 binding to vfio-pci failed: ");

                        gpu = fake_kernel_driver(d.k, "0000:01:00.0");
                        ovr = fake_kernel_override(d.k, "0000:01:00.0");
                        if (streq(writes[w].path, "bus/pci/drivers/bochs-drm/unbind") && errors[e].error == ENODEV) {
                                /* ENODEV from unbind means "not bound to this driver (any more)";
                                 * the device is still on bochs-drm, so the probe binds nothing and
                                 * the check afterwards says so. */
                                CHECK_CONTAINS(&d, d.status, "the driver did not take it");
                        } else if (streq(writes[w].path, "bus/pci/drivers/bochs-drm/unbind") &&
                                   errors[e].error == EBUSY) {
                                CHECK_CONTAINS(&d, d.status, "a host driver holds it (Device or resource busy)");
                        } else {
                                CHECK_CONTAINS(&d, d.status, writes[w].words);
                                CHECK_CONTAINS(&d, d.status, strerror(errors[e].error));
                        }
                        /* The host got its device back: the override was cleared, bochs-drm holds
                         * it (the probe that fails is the same write that would re-probe). */
                        CHECK(&d, !ovr);
                        if (!streq(writes[w].path, "bus/pci/drivers_probe"))
                                CHECK(&d, streq_ptr(gpu, "bochs-drm"));
                        else {
                                CHECK(&d, !gpu);
                                CHECK_CONTAINS(&d, d.status, "now on no driver");
                        }
                        check_truthful(&d, gpu_and_audio, "vfio-pci");

                        /* The log says the same. */
                        err = daemon_stderr(&d);
                        CHECK_CONTAINS(&d, err, "0000:01:00.0: binding to vfio-pci failed");
                        daemon_done(&d);
                        runs++;
                }
        ASSERT_EQ(runs, 9);
}

TEST(a_failure_once_is_rolled_back_to_the_host) {
        _cleanup_free_ char *gpu = NULL, *ovr = NULL;
        Daemon d;

        /* drivers_probe fails once: the rollback's own probe succeeds and bochs-drm is back. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00.0\nGroup=ignore\n",
                       "fail bus/pci/drivers_probe EINVAL 1\n");
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 1);
        gpu = fake_kernel_driver(d.k, "0000:01:00.0");
        ovr = fake_kernel_override(d.k, "0000:01:00.0");
        CHECK(&d, streq_ptr(gpu, "bochs-drm"));
        CHECK(&d, !ovr);
        CHECK_CONTAINS(&d, d.status,
                       "writing drivers_probe failed (Invalid argument); now on bochs-drm, "
                       "driver_override cleared again");
        daemon_done(&d);
}

TEST(device_vanishes_between_enumeration_and_bind) {
        _cleanup_free_ char *err = NULL;
        Daemon d;

        /* The GPU is gone when its console has been released: after the scan, before the bind. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", "vanish 0000:01:00.0 class/vtconsole/vtcon1/bind\n");
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 1);
        CHECK(&d, !fake_kernel_device_exists(d.k, "0000:01:00.0"));
        CHECK_CONTAINS(&d, d.status,
                       "0000:01:00.0 binding to vfio-pci failed: the device disappeared (No such device)");
        err = daemon_stderr(&d);
        CHECK_CONTAINS(&d, err, "0000:01:00.0: binding to vfio-pci failed: the device disappeared");
        check_truthful(&d, gpu_and_audio, "vfio-pci");
        daemon_done(&d);

        /* Gone in the middle of the bind, when the host driver lets go of it. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00.0\nGroup=ignore\n",
                       "vanish 0000:01:00.0 bus/pci/drivers/bochs-drm/unbind\n");
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 1);
        CHECK(&d, !fake_kernel_device_exists(d.k, "0000:01:00.0"));
        CHECK_CONTAINS(&d, d.status, "0000:01:00.0 binding to vfio-pci failed");
        CHECK_CONTAINS(&d, d.status, "now on no driver");
        daemon_done(&d);
}

TEST(driver_module_does_not_exist) {
        _cleanup_free_ char *gpu = NULL, *ovr = NULL, *log = NULL, *conf = NULL;
        Daemon d;

        /* A valid driver name that no module provides: nothing is written at all. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\nDriver=vfio-pci-nonexistent\n", NULL);
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 1);
        CHECK_CONTAINS(&d, d.status,
                       "0000:01:00.0 binding to vfio-pci-nonexistent failed: no kernel module provides "
                       "the driver (No such file or directory); now on bochs-drm");
        gpu = fake_kernel_driver(d.k, "0000:01:00.0");
        ovr = fake_kernel_override(d.k, "0000:01:00.0");
        CHECK(&d, streq_ptr(gpu, "bochs-drm"));
        CHECK(&d, !ovr);
        log = fake_kernel_read_log(d.dir);
        CHECK(&d, !strstr(log, "driver_override=") && !strstr(log, "bus/pci/drivers/"));
        /* Nothing can be bound, so the GPU's console is not given up either. */
        CHECK(&d, !strstr(log, "vtconsole") && !strstr(log, "efi-framebuffer/unbind"));
        CHECK(&d, !strstr(d.status, "console released"));
        daemon_done(&d);

        /* vfio-pci itself missing from the kernel: the same. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", NULL);
        conf = tree_read(d.dir, "fake-kernel.conf");
        ASSERT_TRUE(conf && strstr(conf, "module vfio-pci\n"));
        strstr(conf, "module vfio-pci\n")[0] = '#';
        ASSERT_OK(tree_write(d.dir, "fake-kernel.conf", conf));
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 1);
        CHECK_CONTAINS(&d, d.status, "0000:01:00.0 binding to vfio-pci failed: no kernel module provides the driver");
        CHECK_CONTAINS(&d, d.status, "0000:01:00.1 binding to vfio-pci failed: no kernel module provides the driver");
        check_truthful(&d, gpu_and_audio, "vfio-pci");
        daemon_done(&d);
}

TEST(a_group_member_that_fails_rolls_back_its_group) {
        _cleanup_free_ char *gpu = NULL, *ovr = NULL, *audio = NULL, *err = NULL;
        Daemon d;

        /* vfio-pci refuses the audio function after the GPU was moved: the GPU is put back on
         * bochs-drm, and the status and the log say so, naming the member that failed. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", "refuse vfio-pci 0000:01:00.1\n");
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 1);
        CHECK_CONTAINS(&d, d.status, "0000:01:00.1 binding to vfio-pci failed: the driver did not take it");
        CHECK_CONTAINS(&d, d.status,
                       "0000:01:00.0 rolled back to bochs-drm: 0000:01:00.1 of its IOMMU group failed to "
                       "bind, so the group is not left half on vfio-pci (Group=check)");
        CHECK_CONTAINS(&d, d.status, "0/2 devices on vfio-pci");
        gpu = fake_kernel_driver(d.k, "0000:01:00.0");
        ovr = fake_kernel_override(d.k, "0000:01:00.0");
        audio = fake_kernel_driver(d.k, "0000:01:00.1");
        CHECK(&d, streq_ptr(gpu, "bochs-drm"));
        CHECK(&d, !ovr);
        CHECK(&d, streq_ptr(audio, "snd_hda_intel"));
        err = daemon_stderr(&d);
        CHECK_CONTAINS(&d, err, "0000:01:00.0: rolled back to bochs-drm");
        check_truthful(&d, gpu_and_audio, "vfio-pci");
        daemon_done(&d);
}

TEST(vfio_pci_refuses_the_device) {
        _cleanup_free_ char *gpu = NULL, *ovr = NULL, *gpu2 = NULL, *ovr2 = NULL, *err = NULL;
        Daemon d;

        /* Taken from a host driver: the refusal gives it back. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", "refuse vfio-pci 0000:01:00.0\n");
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 1);
        CHECK_CONTAINS(&d, d.status, "0000:01:00.0 binding to vfio-pci failed: the driver did not take it");
        CHECK_CONTAINS(&d, d.status, "now on bochs-drm, driver_override cleared again");
        gpu = fake_kernel_driver(d.k, "0000:01:00.0");
        ovr = fake_kernel_override(d.k, "0000:01:00.0");
        CHECK(&d, streq_ptr(gpu, "bochs-drm"));
        CHECK(&d, !ovr);
        check_truthful(&d, gpu_and_audio, "vfio-pci");
        daemon_done(&d);

        /* No host driver had it: the override stays so that none takes it later, and says so. */
        daemon_prepare(&d, "unbound", "[Bind]\nDevice=01:00\n", "refuse vfio-pci 0000:01:00.0\n");
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 1);
        gpu2 = fake_kernel_driver(d.k, "0000:01:00.0");
        ovr2 = fake_kernel_override(d.k, "0000:01:00.0");
        CHECK(&d, !gpu2);
        CHECK(&d, streq_ptr(ovr2, "vfio-pci"));
        CHECK_CONTAINS(&d, d.status, "0000:01:00.0 binding to vfio-pci failed: the driver did not take it");
        CHECK_CONTAINS(&d, d.status, "driver_override left at the driver so that no host driver takes it");
        err = daemon_stderr(&d);
        CHECK_CONTAINS(&d, err, "driver_override left at the driver");
        check_truthful(&d, gpu_and_audio, "vfio-pci");
        daemon_done(&d);
}

TEST(a_hanging_write_does_not_hold_ready) {
        Daemon d;
        int64_t took;

        /* bochs-drm's unbind blocks for 30 s; Timeout=1s. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\nTimeout=1s\n", NULL);
        daemon_start(&d, NULL, "bus/pci/drivers/bochs-drm/unbind", 30);
        CHECK(&d, daemon_wait_ready(&d));
        took = d.ready_ms - d.started_ms;
        fprintf(stderr, "READY=1 after %" PRId64 " ms\n", took);
        /* Each bind may take until Timeout= or a second, whichever is later: two devices. */
        CHECK(&d, took < 4500);
        CHECK(&d, !daemon_exited(&d));
        CHECK_CONTAINS(&d, d.status,
                       "0000:01:00.0 stuck: writing \"0000:01:00.0\" to bus/pci/drivers/bochs-drm/unbind "
                       "has not returned after");
        CHECK_CONTAINS(&d, d.status, "the device is left alone until it returns");
        daemon_done(&d);
}

TEST(a_hanging_write_after_ready_is_named_too) {
        _cleanup_free_ char *err = NULL;
        Daemon d;

        /* Timeout=0: READY at once; the hang must not delay it either. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00.0\nGroup=ignore\nTimeout=0\n", NULL);
        daemon_start(&d, NULL, "bus/pci/drivers/bochs-drm/unbind", 30);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, d.ready_ms - d.started_ms < 3000);
        CHECK_CONTAINS(&d, d.status, "0000:01:00.0 stuck: writing");
        err = daemon_stderr(&d);
        CHECK_CONTAINS(&d, err, "0000:01:00.0: stuck: writing \"0000:01:00.0\" to bus/pci/drivers/bochs-drm/unbind");
        daemon_done(&d);
}

TEST(a_device_the_host_uses_is_never_written) {
        _cleanup_free_ char *log = NULL, *err = NULL;
        Daemon d;

        daemon_prepare(&d, "in-use", "[Bind]\nDevice=00:1f.2 01:00\n", NULL);
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 1);
        CHECK_CONTAINS(&d, d.status, "0000:00:1f.2 refused: the host uses it: /dev/sda2 is mounted on /");
        /* The GPU next to it is bound as usual. */
        CHECK_CONTAINS(&d, d.status, "2/3 devices on vfio-pci: 0000:01:00.0 0000:01:00.1");
        err = daemon_stderr(&d);
        CHECK_CONTAINS(&d, err, "0000:00:1f.2: refused: the host uses it: /dev/sda2 is mounted on /");
        log = fake_kernel_read_log(d.dir);
        CHECK(&d, !strstr(log, "0000:00:1f.2"));
        CHECK(&d, !strstr(log, "drivers/ahci"));
        daemon_done(&d);
}

TEST(force_binds_it_with_a_warning) {
        _cleanup_free_ char *drv = NULL, *err = NULL;
        Daemon d;

        daemon_prepare(&d, "in-use", "[Bind]\nDevice=00:1f.2\nForce=00:1f.2\n", NULL);
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 0);
        drv = fake_kernel_driver(d.k, "0000:00:1f.2");
        CHECK(&d, streq_ptr(drv, "vfio-pci"));
        CHECK_CONTAINS(&d, d.status, "1/1 devices on vfio-pci: 0000:00:1f.2");
        CHECK_CONTAINS(&d, d.status, "0000:00:1f.2 FORCED although the host used it (/dev/sda2 is mounted on /");
        err = daemon_stderr(&d);
        CHECK_CONTAINS(&d, err,
                       "0000:00:1f.2: FORCED by Force=: binding to vfio-pci although the host uses it: "
                       "/dev/sda2 is mounted on /");
        daemon_done(&d);
}

TEST(group_take_never_takes_the_disk) {
        _cleanup_free_ char *log = NULL;
        Daemon d;

        daemon_prepare(&d, "in-use-group", "[Bind]\nDevice=02:00.0\nGroup=take\n", NULL);
        ASSERT_OK(tree_write(d.dir, "proc/net/route", "Iface\tDestination\n"));
        ASSERT_OK(tree_write(d.dir, "proc/net/if_inet6", ""));
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) == 1);
        CHECK_CONTAINS(&d, d.status, "0000:02:00.1 refused: the host uses it: /dev/sdb1 is mounted on /srv");
        CHECK_CONTAINS(&d, d.status, "0000:02:00.0 refused: IOMMU group 4 has 0000:02:00.1 on ahci (the host uses it");
        log = fake_kernel_read_log(d.dir);
        CHECK(&d, !strstr(log, "0000:02:00"));
        daemon_done(&d);
}

/* Timeout=0: nothing is waited for, so a missing device is missing from the first STATUS= on,
 * never "yet" (issue 16: the mutant that waited anyway, READY coming a timer tick later,
 * survived the suite). */
TEST(timeout_zero_never_says_yet) {
        Daemon d;

        daemon_prepare(&d, "desktop", "[Bind]\nDevice=0000:05:00.0 dead:beef 01:00\nTimeout=0\n", NULL);
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_ready(&d));
        CHECK(&d, daemon_wait_exit(&d) <= 1);
        CHECK_CONTAINS(&d, d.status, "0000:05:00.0 missing after 0s");
        CHECK_CONTAINS(&d, d.status, "no device matches dead:beef");
        CHECK(&d, !strstr(d.notify, " yet"));
        daemon_done(&d);
}

/* ---- killed at any step (issue 16) ------------------------------------------------------------ */

/* Start the daemon again on the same tree, as Restart=on-failure does after a crash. */
static void daemon_restart(Daemon *d, const char *extra) {
        kill_leftover();
        daemon_drain(d);
        free(d->notify);
        free(d->status);
        d->notify = strdup("");
        ASSERT_TRUE(d->notify);
        d->status = NULL;
        d->ready = false;
        d->exit_status = -1;
        daemon_start(d, extra, NULL, 0);
}

/* The steps of a bind as the fake kernel logged them, each as the rule that kills right after
 * it: "kill-after PATH N" (the N-th write of PATH), "kill-after load:DRIVER 1". */
static char **crash_steps(const char *log, size_t *ret_n) {
        char **steps = NULL, **keys = NULL;
        size_t n = 0;

        for (const char *l = log; *l;) {
                size_t len = strcspn(l, "\n"), klen;
                _cleanup_free_ char *line = strndup(l, len);
                char *key, *rule;
                unsigned nth = 1;

                ASSERT_TRUE(line);
                l += len + (l[len] == '\n');
                if (strneq(line, "VIOLATION", 9))
                        continue;
                if (strneq(line, "load ", 5)) {
                        klen = strcspn(line + 5, " ");
                        ASSERT_TRUE(asprintf(&key, "load:%.*s", (int) klen, line + 5) > 0);
                } else {
                        klen = strcspn(line, "=");
                        key = strndup(line, klen);
                        ASSERT_TRUE(key);
                }
                for (size_t i = 0; i < n; i++)
                        if (streq(keys[i], key))
                                nth++;
                ASSERT_TRUE(asprintf(&rule, "kill-after %s %u\n", key, nth) > 0);
                keys = realloc(keys, (n + 1) * sizeof(char *));
                steps = realloc(steps, (n + 2) * sizeof(char *));
                ASSERT_TRUE(keys && steps);
                keys[n] = key;
                steps[n++] = rule;
                steps[n] = NULL;
        }
        for (size_t i = 0; i < n; i++)
                free(keys[i]);
        free(keys);
        *ret_n = n;
        return steps;
}

/* "N/M devices on DRIVER: A B C; …": every address the status says is on the driver is. */
static void check_status_claims(Daemon *d, const char *driver, size_t *ret_claimed) {
        _cleanup_free_ char *prefix = NULL;
        const char *p, *list;
        size_t claimed = 0, n_ok;

        CHECK(d, d->status);
        ASSERT_TRUE(asprintf(&prefix, " devices on %s", driver) > 0);
        p = strstr(d->status, prefix);
        CHECK(d, p);
        CHECK(d, sscanf(d->status, "%zu/", &n_ok) == 1);
        list = p + strlen(prefix);
        if (*list == ':') {
                list++;
                while (*list == ' ') {
                        char addr[64];
                        size_t len;

                        list++;
                        len = strcspn(list, " ;");
                        CHECK(d, len > 0 && len < sizeof(addr));
                        memcpy(addr, list, len);
                        addr[len] = '\0';
                        {
                                _cleanup_free_ char *cur = fake_kernel_driver(d->k, addr);
                                if (!streq_ptr(cur, driver)) {
                                        daemon_show(d);
                                        TEST_FAIL("STATUS= says %s is on %s, it is on %s", addr, driver, strna(cur));
                                }
                        }
                        claimed++;
                        list += len;
                }
        }
        CHECK(d, claimed == n_ok);
        if (strstr(d->status, "console released"))
                /* Whatever it says was released is no longer bound. */
                CHECK(d, !fake_kernel_platform_driver(d->k, "efi-framebuffer.0") &&
                                 !fake_kernel_platform_driver(d->k, "simple-framebuffer.0"));
        *ret_claimed = claimed;
}

/* What the machine looks like: every PCI device's driver and override (and a PF's SR-IOV
 * state), the vtconsoles and the boot framebuffer's driver, one line each. */
static char *machine_state(const FakeKernel *k) {
        _cleanup_free_ char *devices = NULL;
        char *s = strdup("");
        DIR *dir;

        ASSERT_TRUE(s);
        ASSERT_TRUE(asprintf(&devices, "%s/bus/pci/devices", fake_kernel_sysfs_root(k)) > 0);
        dir = opendir(devices);
        ASSERT_TRUE(dir);
        for (struct dirent *de; (de = readdir(dir));) {
                static const char *const attrs[] = { "sriov_numvfs", "sriov_drivers_autoprobe" };
                _cleanup_free_ char *drv = NULL, *ovr = NULL;
                char *t;

                if (de->d_name[0] == '.')
                        continue;
                drv = fake_kernel_driver(k, de->d_name);
                ovr = fake_kernel_override(k, de->d_name);
                ASSERT_TRUE(asprintf(&t, "%s%s driver=%s override=%s", s, de->d_name, strna(drv), strna(ovr)) > 0);
                free(s);
                s = t;
                for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                        _cleanup_free_ char *path = NULL, *v = NULL;

                        ASSERT_TRUE(asprintf(&path, "bus/pci/devices/%s/%s", de->d_name, attrs[i]) > 0);
                        v = fake_kernel_read(k, path);
                        if (!v)
                                continue;
                        ASSERT_TRUE(asprintf(&t, "%s %s=%s", s, attrs[i], v) > 0);
                        free(s);
                        s = t;
                }
                ASSERT_TRUE(asprintf(&t, "%s\n", s) > 0);
                free(s);
                s = t;
        }
        closedir(dir);
        for (unsigned i = 0; i < 4; i++) {
                _cleanup_free_ char *path = NULL, *v = NULL;
                char *t;

                ASSERT_TRUE(asprintf(&path, "class/vtconsole/vtcon%u/bind", i) > 0);
                v = fake_kernel_read(k, path);
                if (!v)
                        continue;
                ASSERT_TRUE(asprintf(&t, "%svtcon%u bind=%s\n", s, i, v) > 0);
                free(s);
                s = t;
        }
        {
                _cleanup_free_ char *fb = fake_kernel_platform_driver(k, "efi-framebuffer.0");
                char *t;
                ASSERT_TRUE(asprintf(&t, "%sefi-framebuffer.0 driver=%s\n", s, strna(fb)) > 0);
                free(s);
                s = t;
        }
        return s;
}

/* No device is lost: each one either on the driver, or on a host driver, or driverless with
 * the override naming the driver, or driverless and untouched as it was at the start
 * (INITIAL: "ADDR driver=…" lines of machine_state()), or (INITIAL given: right after the
 * kill) a VF that was not there at the start (created with autoprobe off, which no host driver
 * probes, or not created yet). */
static void check_not_lost(Daemon *d, const char *const *addrs, const char *driver, const char *initial) {
        for (const char *const *a = addrs; *a; a++) {
                _cleanup_free_ char *cur = fake_kernel_driver(d->k, *a), *ovr = fake_kernel_override(d->k, *a);
                _cleanup_free_ char *untouched = NULL;

                ASSERT_TRUE(asprintf(&untouched, "%s driver=", *a) > 0);
                if (initial && !strstr(initial, untouched))
                        continue; /* a VF the killed run created or did not get to: autoprobe off */
                free(untouched);
                ASSERT_TRUE(asprintf(&untouched, "%s driver=n/a override=n/a", *a) > 0);
                if (!cur && !streq_ptr(ovr, driver) && !(initial && strstr(initial, untouched))) {
                        daemon_show(d);
                        TEST_FAIL("%s is lost: no driver and driver_override %s", *a, strna(ovr));
                }
        }
}

typedef struct CrashCase {
        const char *tree;
        const char *conf;
        const char *const *addrs; /* every device that must end on the driver */
        const char *fake_conf;    /* extra rules, or NULL */
} CrashCase;

/* Kill the daemon right after each step its run makes on CASE, start it again, and see it
 * converge. Returns the number of steps killed at. */
static unsigned crash_at_every_step(const CrashCase *c) {
        _cleanup_free_ char *log = NULL, *initial = NULL, *final = NULL;
        char **steps;
        size_t n_steps = 0, claimed;
        unsigned killed = 0;
        Daemon d;

        /* The run without a kill: every device ends on the driver, and its writes are the steps;
         * the machine as it leaves it is what every run that was killed must end in too. */
        daemon_prepare(&d, c->tree, c->conf, c->fake_conf);
        initial = machine_state(d.k);
        daemon_start(&d, "--once", NULL, 0);
        CHECK(&d, daemon_wait_exit(&d) == 0);
        check_status_claims(&d, "vfio-pci", &claimed);
        log = fake_kernel_read_log(d.dir);
        CHECK(&d, log && !strstr(log, "VIOLATION"));
        steps = crash_steps(log, &n_steps);
        CHECK(&d, n_steps > 0);
        final = machine_state(d.k);
        daemon_done(&d);

        for (size_t i = 0; i < n_steps; i++) {
                _cleanup_free_ char *marker = NULL, *fake = NULL, *state = NULL;
                int st;

                ASSERT_TRUE(asprintf(&fake, "%s%s", strempty(c->fake_conf), steps[i]) > 0);
                daemon_prepare(&d, c->tree, c->conf, fake);
                daemon_start(&d, "--once", NULL, 0);
                st = daemon_wait_exit(&d);
                marker = tree_read(d.dir, "fake-kernel.killed");
                if (st != 128 + SIGKILL || !marker) {
                        daemon_show(&d);
                        TEST_FAIL("%s: %s: not killed (exit status %d)", c->tree, steps[i], st);
                }
                /* What a crash may leave behind is no device lost for good: */
                check_not_lost(&d, c->addrs, "vfio-pci", initial);

                /* Restart=on-failure: the daemon starts again and converges to where the run
                 * that was not killed ended, and says so truthfully. */
                daemon_restart(&d, "--once");
                st = daemon_wait_exit(&d);
                if (st != 0) {
                        daemon_show(&d);
                        TEST_FAIL("%s: killed after %s: started again, it exits %d", c->tree, steps[i], st);
                }
                check_status_claims(&d, "vfio-pci", &claimed);
                check_not_lost(&d, c->addrs, "vfio-pci", NULL);
                check_truthful(&d, c->addrs, "vfio-pci");
                for (const char *const *a = c->addrs; *a; a++) {
                        _cleanup_free_ char *cur = fake_kernel_driver(d.k, *a);
                        if (!streq_ptr(cur, "vfio-pci")) {
                                daemon_show(&d);
                                TEST_FAIL("%s: killed after %s: %s ends on %s", c->tree, steps[i], *a, strna(cur));
                        }
                }
                state = machine_state(d.k);
                if (!streq(state, final)) {
                        daemon_show(&d);
                        TEST_FAIL("%s: killed after %s: the machine ends as\n%sand not as without the kill:\n%s",
                                  c->tree, steps[i], state, final);
                }
                fprintf(stderr, "%s: killed after %.*s: converged, %zu on vfio-pci\n", c->tree,
                        (int) strcspn(steps[i], "\n"), steps[i], claimed);
                daemon_done(&d);
                killed++;
        }
        for (size_t i = 0; i < n_steps; i++)
                free(steps[i]);
        free(steps);
        return killed;
}

/* A desktop GPU with its audio function, both on host drivers, the GPU holding the console:
 * killed after loading vfio-pci, after each console release step, after each override, unbind
 * and probe (before verification), the daemon started again binds both. */
TEST(killed_at_any_step_of_a_gpu_bind) {
        const CrashCase c = { "desktop", "[Bind]\nDevice=01:00\n", gpu_and_audio, NULL };
        ASSERT_TRUE(crash_at_every_step(&c) >= 9);
}

/* Group=take: the third member of the group is taken too. */
TEST(killed_at_any_step_of_a_group_take) {
        static const char *const group[] = { "0000:04:00.0", "0000:04:00.1", "0000:04:00.2", NULL };
        const CrashCase c = { "shared-group", "[Bind]\nDevice=04:00.0 04:00.1\nGroup=take\n", group, NULL };
        ASSERT_TRUE(crash_at_every_step(&c) >= 9);
}

/* Nothing holds the GPU yet (the race won), vfio-pci built in, UnbindHost=no. */
TEST(killed_at_any_step_of_an_unbound_bind) {
        const CrashCase c = { "unbound", "[Bind]\nDevice=01:00\nUnbindHost=no\n", gpu_and_audio, NULL };
        ASSERT_TRUE(crash_at_every_step(&c) >= 4);
}

/* Virtual functions: killed after autoprobe off, after sriov_numvfs (the VFs there, no override
 * yet), after each VF's override, after autoprobe on again, and in the binds. */
TEST(killed_at_any_step_of_vf_creation) {
        static const char *const vfs[] = { "0000:03:10.0", "0000:03:10.2", NULL };
        const CrashCase c = { "sriov", "[Bind]\nVirtualFunctions=03:00.0 2\n", vfs, NULL };
        ASSERT_TRUE(crash_at_every_step(&c) >= 5);
}

TESTS_MAIN()
