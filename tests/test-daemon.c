/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-bindd as a process: tests/vfio-bindd-test (the real daemon, the fake kernel) runs on a
 * copy of a fake tree placed in a umockdev testbed, with a NOTIFY_SOCKET this test owns.
 * Uevents reach the daemon's libudev monitor through umockdev's netlink emulation: the test
 * plugs a device with the fake kernel, then emits the kernel's "add" and "bind" uevents with
 * umockdev_testbed_uevent().
 *
 * Both processes run under libumockdev-preload (the test re-executes itself with it): the
 * preload redirects /sys to the testbed, which is also where umockdev_testbed_uevent() reads
 * the device from. The tree is copied to the testbed's root, so its sys/ is the testbed's
 * sysfs and the daemon is given the same directory as its sysfs root.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf */
#endif
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <umockdev.h>

#include "bind.h"
#include "fake-kernel.h"
#include "macro.h"
#include "runtime.h"
#include "tests.h"
#include "tree.h"

#define PRELOAD "libumockdev-preload.so.0"
#define WAIT_MS 20000

typedef struct Daemon {
        UMockdevTestbed *tb;
        char *root;
        FakeKernel *k; /* the test's view of the same tree */
        int notify_fd;
        pid_t pid;
        char *notify; /* every notification so far, one per line, "|" between fields */
        bool ready;
        int status; /* exit status once reaped, -1 before */
} Daemon;

/* Run the whole program under libumockdev-preload. */
__attribute__((constructor)) static void reexec_under_umockdev(void) {
        const char *p = getenv("LD_PRELOAD");
        char buf[8192], *argv[64];
        size_t n = 0, argc = 0;
        ssize_t len;
        int fd;

        if (p && strstr(p, "libumockdev-preload"))
                return;
        fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (len <= 0)
                return;
        buf[len] = '\0';
        while (n < (size_t) len && argc < ELEMENTSOF(argv) - 1) {
                argv[argc++] = buf + n;
                n += strlen(buf + n) + 1;
        }
        argv[argc] = NULL;
        if (p && *p) {
                char *both;
                if (asprintf(&both, "%s %s", PRELOAD, p) < 0)
                        return;
                setenv("LD_PRELOAD", both, 1);
        } else
                setenv("LD_PRELOAD", PRELOAD, 1);
        /* An ASan build would refuse a preload listed before its runtime. */
        p = getenv("ASAN_OPTIONS");
        if (!p || !strstr(p, "verify_asan_link_order")) {
                char *o;
                if (asprintf(&o, "%s%sverify_asan_link_order=0", strempty(p), p && *p ? ":" : "") < 0)
                        return;
                setenv("ASAN_OPTIONS", o, 1);
        }
        execv("/proc/self/exe", argv);
        fprintf(stderr, "cannot re-execute under %s: %m\n", PRELOAD);
}

/* What a failed test (TEST_FAIL longjmps past daemon_done()) leaves behind: cleaned up before
 * the next daemon and after every test (TEARDOWN below). */
static pid_t leftover_pid = -1;
static char *leftover_root;

static void cleanup_leftovers(void) {
        if (leftover_pid > 0) {
                kill(leftover_pid, SIGKILL);
                (void) waitpid(leftover_pid, NULL, 0);
                leftover_pid = -1;
        }
        if (leftover_root) {
                if (getenv("VB_TEST_KEEP_TREES"))
                        fprintf(stderr, "kept testbed %s\n", leftover_root);
                else
                        (void) tree_remove(leftover_root);
                free(leftover_root);
                leftover_root = NULL;
        }
}

TEARDOWN() {
        cleanup_leftovers();
}

static const char *bindd_test_path(void) {
        static char path[4096];
        const char *e = getenv("VB_BINDD_TEST");
        ssize_t n;
        char *slash;

        if (e)
                return e;
        n = readlink("/proc/self/exe", path, sizeof(path) - 32);
        if (n < 0)
                return "vfio-bindd-test";
        path[n] = '\0';
        slash = strrchr(path, '/');
        strcpy(slash ? slash + 1 : path, "vfio-bindd-test");
        return path;
}

static char *root_path(const Daemon *d, const char *name) {
        char *p;
        ASSERT_TRUE(asprintf(&p, "%s/%s", d->root, name) > 0);
        return p;
}

/* A testbed holding a copy of CASE_NAME, the configuration CONF (NULL: none written) and extra
 * fake kernel rules. */
static void daemon_prepare(Daemon *d, const char *case_name, const char *conf, const char *fake_conf) {
        _cleanup_free_ char *sock = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        cleanup_leftovers(); /* an earlier daemon of this test */
        *d = (Daemon) { .notify_fd = -EBADF, .pid = -1, .status = -1 };
        d->tb = umockdev_testbed_new();
        ASSERT_TRUE(d->tb);
        d->root = umockdev_testbed_get_root_dir(d->tb);
        leftover_root = strdup(d->root);
        ASSERT_OK(tree_copy(case_name, d->root));
        if (conf)
                ASSERT_OK(tree_write(d->root, "vfio-bind.conf", conf));
        if (fake_conf)
                ASSERT_OK(tree_append(d->root, "fake-kernel.conf", fake_conf));
        ASSERT_OK(fake_kernel_new(&d->k, d->root));

        sock = root_path(d, "notify");
        ASSERT_TRUE(strlen(sock) < sizeof(sa.sun_path));
        strcpy(sa.sun_path, sock);
        d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ASSERT_TRUE(d->notify_fd >= 0);
        ASSERT_OK(bind(d->notify_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? -errno : 0);
        d->notify = strdup("");
}

/* Start the daemon with --config=<root>/vfio-bind.conf (if written) and ARGS. */
static void daemon_start(Daemon *d, const char *const *args) {
        _cleanup_free_ char *conf = root_path(d, "vfio-bind.conf"), *config_arg = NULL;
        _cleanup_free_ char *out = root_path(d, "stdout"), *err = root_path(d, "stderr");
        _cleanup_free_ char *sock = root_path(d, "notify");
        const char *argv[16] = { bindd_test_path() };
        size_t n = 1;

        ASSERT_TRUE(asprintf(&config_arg, "--config=%s", conf) > 0);
        if (tree_exists(d->root, "vfio-bind.conf"))
                argv[n++] = config_arg;
        for (; args && *args; args++)
                argv[n++] = *args;
        argv[n] = NULL;

        d->pid = fork();
        ASSERT_TRUE(d->pid >= 0);
        leftover_pid = d->pid;
        if (d->pid == 0) {
                int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                int e = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

                if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
                        vb_coverage_exit(127);
                setenv("VB_FAKE_TREE", d->root, 1);
                setenv("NOTIFY_SOCKET", sock, 1);
                unsetenv("JOURNAL_STREAM");
                execv(argv[0], (char **) argv);
                vb_coverage_exit(127);
        }
}

/* Read what has arrived on the notify socket. */
static void daemon_drain(Daemon *d) {
        char buf[4096];
        ssize_t n;

        while ((n = recv(d->notify_fd, buf, sizeof(buf) - 1, 0)) > 0) {
                char *s;

                buf[n] = '\0';
                for (char *c = buf; *c; c++)
                        if (*c == '\n')
                                *c = '|';
                if (strstr(buf, "READY=1"))
                        d->ready = true;
                ASSERT_TRUE(asprintf(&s, "%s%s\n", d->notify, buf) > 0);
                free(d->notify);
                d->notify = s;
        }
}

/* Has the child exited? Reap it. */
static bool daemon_exited(Daemon *d) {
        int st;

        if (d->status >= 0)
                return true;
        if (d->pid > 0 && waitpid(d->pid, &st, WNOHANG) == d->pid) {
                d->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                d->pid = -1;
                leftover_pid = -1;
                return true;
        }
        return false;
}

/* Wait until a notification contains NEEDLE (or the daemon exits, or MS pass). */
static bool daemon_wait_notify_ms(Daemon *d, const char *needle, int64_t ms) {
        int64_t end = test_now_ms() + ms;

        for (;;) {
                struct pollfd p = { .fd = d->notify_fd, .events = POLLIN };

                daemon_drain(d);
                if (strstr(d->notify, needle))
                        return true;
                if (daemon_exited(d) || test_now_ms() > end)
                        return false;
                (void) poll(&p, 1, 50);
        }
}

/* Forget the notifications received so far: the next wait looks at new ones only. */
static void daemon_forget_notifications(Daemon *d) {
        daemon_drain(d);
        free(d->notify);
        d->notify = strdup("");
        ASSERT_TRUE(d->notify);
}

static bool daemon_wait_notify(Daemon *d, const char *needle) {
        return daemon_wait_notify_ms(d, needle, WAIT_MS);
}

/* Wait until the test's fake kernel sees ADDR on DRIVER. */
static bool wait_driver(Daemon *d, const char *addr, const char *driver) {
        int64_t end = test_now_ms() + WAIT_MS;

        for (;;) {
                _cleanup_free_ char *cur = fake_kernel_driver(d->k, addr);
                if (streq_ptr(cur, driver))
                        return true;
                if (test_now_ms() > end)
                        return false;
                usleep(20 * 1000);
        }
}

static int daemon_wait_exit(Daemon *d) {
        int64_t end = test_now_ms() + WAIT_MS;

        while (!daemon_exited(d)) {
                if (test_now_ms() > end) {
                        kill(d->pid, SIGKILL);
                        TEST_FAIL("the daemon did not exit");
                }
                usleep(20 * 1000);
        }
        daemon_drain(d);
        return d->status;
}

/* Run to completion (--validate, --dry-run, --once). */
static int daemon_run(Daemon *d, const char *const *args) {
        daemon_start(d, args);
        return daemon_wait_exit(d);
}

static int daemon_stop(Daemon *d) {
        ASSERT_TRUE(d->pid > 0);
        ASSERT_OK(kill(d->pid, SIGTERM) < 0 ? -errno : 0);
        return daemon_wait_exit(d);
}

static void daemon_show(const Daemon *d) {
        _cleanup_free_ char *err = tree_read(d->root, "stderr"), *log = fake_kernel_read_log(d->root);
        fprintf(stderr, "--- notifications:\n%s--- daemon stderr:\n%s\n--- fake kernel log:\n%s---\n",
                strempty(d->notify), strempty(err), strempty(log));
}

static void daemon_done(Daemon *d) {
        if (d->pid > 0) {
                kill(d->pid, SIGKILL);
                (void) waitpid(d->pid, NULL, 0);
        }
        if (d->notify_fd >= 0)
                close(d->notify_fd);
        fake_kernel_free(d->k);
        free(d->notify);
        g_free(d->root);
        g_object_unref(d->tb);
        leftover_pid = -1;
        free(leftover_root);
        leftover_root = NULL;
        *d = (Daemon) {};
}

#define ASSERT_DAEMON(d, expr)                                    \
        do {                                                      \
                if (!(expr)) {                                    \
                        daemon_show(d);                           \
                        TEST_FAIL("assertion failed: %s", #expr); \
                }                                                 \
        } while (0)

#define ASSERT_DRIVER(d, addr, driver)                                                                   \
        do {                                                                                             \
                _cleanup_free_ char *_cur = fake_kernel_driver((d)->k, (addr));                          \
                if (!streq_ptr(_cur, (driver))) {                                                        \
                        daemon_show(d);                                                                  \
                        TEST_FAIL("%s: expected driver %s, got %s", (addr), strna(driver), strna(_cur)); \
                }                                                                                        \
        } while (0)

#define ASSERT_EXIT(d, expr, code)                                                            \
        do {                                                                                  \
                int _st = (expr);                                                             \
                if (_st != (code)) {                                                          \
                        daemon_show(d);                                                       \
                        TEST_FAIL("%s: expected exit status %d, got %d", #expr, (code), _st); \
                }                                                                             \
        } while (0)

/* The writes the daemon made, as the fake kernel logged them. */
static char *daemon_log(const Daemon *d) {
        char *log = fake_kernel_read_log(d->root);
        ASSERT_TRUE(log);
        return log;
}

/* The fake kernel plugs ADDR in (its host driver binds it during device_add, as in the kernel)
 * and the kernel's "add" and "bind" uevents are sent; returns the device's /sys path. */
static char *hotplug_with_uevents(Daemon *d, const char *addr) {
        _cleanup_free_ char *devpath = NULL;
        char *syspath = NULL;

        ASSERT_EQ(fake_kernel_plug(d->k, addr, &devpath), 1);
        ASSERT_TRUE(asprintf(&syspath, "/sys/%s", devpath) > 0);
        umockdev_testbed_uevent(d->tb, syspath, "add");
        umockdev_testbed_uevent(d->tb, syspath, "bind");
        return syspath;
}

/* ---- the tests --------------------------------------------------------------------------------- */

TEST(coldplug_binds_gpu_and_audio) {
        Daemon d;
        _cleanup_free_ char *log = NULL;

        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify, "2/2 devices on vfio-pci"));
        ASSERT_DRIVER(&d, "0000:01:00.0", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:01:00.1", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:02:00.0", "e1000e");
        /* The GPU owns the console (Release=auto): the driver's module is loaded first (without
         * it nothing could be bound, and the console would be given up for nothing), then the
         * console is released, then the devices are bound. */
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, strstr(log,
                                 "load vfio-pci -> 1\n"
                                 "class/vtconsole/vtcon1/bind=0\n"
                                 "bus/platform/drivers/efi-framebuffer/unbind=efi-framebuffer.0\n"
                                 "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"
                                 "bus/pci/drivers/bochs-drm/unbind=0000:01:00.0\n"
                                 "bus/pci/drivers_probe=0000:01:00.0\n"));
        ASSERT_DAEMON(&d, strstr(log,
                                 "bus/pci/devices/0000:01:00.1/driver_override=vfio-pci\n"
                                 "bus/pci/drivers/snd_hda_intel/unbind=0000:01:00.1\n"
                                 "bus/pci/drivers_probe=0000:01:00.1\n"));
        ASSERT_DAEMON(&d, !strstr(log, "VIOLATION"));

        /* SIGTERM: exit 0, devices stay where they are. */
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        ASSERT_DRIVER(&d, "0000:01:00.0", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:01:00.1", "vfio-pci");
        daemon_done(&d);
}

/* Driver=auto in the daemon: the module index's more specific alias wins, the variant's module is
 * loaded and the device bound to its driver (the daemon's job tracking once hid the index from the
 * choice, which then said "no module index" and bound vfio-pci: VM scenario 27 found it). */
TEST(driver_auto_binds_the_variant_driver) {
        Daemon d;

        daemon_prepare(&d, "desktop", "[Bind]\nDevice=02:00.0\n",
                       "module e1000e-vfio-pci e1000e_vfio_pci\n"
                       "alias vfio_pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e_vfio_pci\n");
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify, "1/1 devices on e1000e-vfio-pci"));
        ASSERT_DRIVER(&d, "0000:02:00.0", "e1000e-vfio-pci");
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(coldplug_race_won) {
        Daemon d;
        _cleanup_free_ char *log = NULL;

        /* Nothing holds the GPU yet, vfio-pci is built in: no PCI driver is unbound. (The boot
         * framebuffer still lies on the GPU, so the console is released; with Release=no the
         * console interlock would refuse the GPU, see test-faults.) */
        daemon_prepare(&d, "unbound", "[Bind]\nDevice=01:00\nUnbindHost=no\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DRIVER(&d, "0000:01:00.0", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:01:00.1", "vfio-pci");
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, !strstr(log, "/unbind=0000:"));
        ASSERT_DAEMON(&d, strstr(log, "bus/platform/drivers/efi-framebuffer/unbind=efi-framebuffer.0\n"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(hotplug_add_is_handled) {
        Daemon d;
        _cleanup_free_ char *syspath = NULL, *log = NULL;

        daemon_prepare(&d, "desktop", "[Bind]\nDevice=0000:03:00.0\nTimeout=60s\n", NULL);
        daemon_start(&d, NULL);
        /* Waiting for the device; the monitor is up before the first pass. */
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "0000:03:00.0"));
        ASSERT_DAEMON(&d, !d.ready);

        /* The card arrives; e1000e is loaded and binds it during device_add, as in the kernel. */
        syspath = hotplug_with_uevents(&d, "0000:03:00.0");

        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:03:00.0", "vfio-pci"));
        ASSERT_DAEMON(&d, strstr(d.notify, "1/1 devices on vfio-pci"));
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, strstr(log,
                                 "bus/pci/devices/0000:03:00.0/driver_override=vfio-pci\n"
                                 "bus/pci/drivers/e1000e/unbind=0000:03:00.0\n"
                                 "bus/pci/drivers_probe=0000:03:00.0\n"));
        /* The NIC does not own the console. */
        ASSERT_DAEMON(&d, !strstr(log, "vtconsole"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(write_that_hangs_does_not_hold_ready) {
        Daemon d;
        int64_t start;

        /* bochs-drm hangs in its remove for 8 s: READY=1 must come after Timeout= (2 s), not
         * after the write returns, and the status must say which write is stuck. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\nTimeout=2s\n",
                       "hang bus/pci/drivers/bochs-drm/unbind 8000\n");
        start = test_now_ms();
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, test_now_ms() - start < 7000);
        ASSERT_DAEMON(&d, strstr(d.notify, "stuck"));
        ASSERT_DAEMON(&d, strstr(d.notify, "bochs-drm/unbind"));
        /* The group is a transaction: the other function of the card is not moved while its
         * sibling's bind hangs, and the status says why. */
        ASSERT_DRIVER(&d, "0000:01:00.1", "snd_hda_intel");
        ASSERT_DAEMON(&d, strstr(d.notify, "0000:01:00.1 not tried: 0000:01:00.0 of its IOMMU group failed first"));
        /* Once the write returns, the bind completes, and the rest of the group follows. */
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:01:00.0", "vfio-pci"));
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:01:00.1", "vfio-pci"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(host_driver_with_unbind_host_no) {
        Daemon d;
        _cleanup_free_ char *log = NULL;

        daemon_prepare(&d, "desktop", "[Bind]\nDevice=02:00.0\nUnbindHost=no\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify, "0/1 devices on vfio-pci"));
        ASSERT_DRIVER(&d, "0000:02:00.0", "e1000e");
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, streq(log, ""));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);

        /* UnbindHost=yes (the default) takes it. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=02:00.0\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify, "1/1 devices on vfio-pci"));
        ASSERT_DRIVER(&d, "0000:02:00.0", "vfio-pci");
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(release_auto_decides) {
        Daemon d;
        _cleanup_free_ char *log = NULL, *bind = NULL, *fb = NULL;

        /* The second card does not own the console: it stays. */
        daemon_prepare(&d, "two-gpus", "[Bind]\nDevice=0f:00\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DRIVER(&d, "0000:0f:00.0", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:0f:00.1", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:0e:00.0", "nouveau");
        ASSERT_DRIVER(&d, "0000:0e:00.1", "snd_hda_intel");
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, !strstr(log, "vtconsole") && !strstr(log, "platform"));
        bind = fake_kernel_read(d.k, "class/vtconsole/vtcon1/bind");
        ASSERT_STREQ(bind, "1");
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);

        /* The boot card: console and framebuffer released first. */
        free(TAKE_PTR(log));
        free(TAKE_PTR(bind));
        daemon_prepare(&d, "two-gpus", "[Bind]\nDevice=0e:00\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DRIVER(&d, "0000:0e:00.0", "vfio-pci");
        ASSERT_DAEMON(&d, strstr(d.notify, "console released"));
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, strstr(log,
                                 "load vfio-pci -> 1\n"
                                 "class/vtconsole/vtcon1/bind=0\n"
                                 "bus/platform/drivers/efi-framebuffer/unbind=efi-framebuffer.0\n"
                                 "bus/pci/devices/0000:0e:00.0/driver_override=vfio-pci\n"));
        fb = fake_kernel_platform_driver(d.k, "efi-framebuffer.0");
        ASSERT_NULL(fb);
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(group_check_refuses_and_take_binds) {
        Daemon d;
        _cleanup_free_ char *log = NULL;

        daemon_prepare(&d, "shared-group", "[Bind]\nDevice=04:00.0 04:00.1\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify, "0000:04:00.2"));
        ASSERT_DRIVER(&d, "0000:04:00.0", "nouveau");
        ASSERT_DRIVER(&d, "0000:04:00.1", "snd_hda_intel");
        ASSERT_DRIVER(&d, "0000:04:00.2", "xhci_hcd");
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, !strstr(log, "driver_override"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);

        daemon_prepare(&d, "shared-group", "[Bind]\nDevice=04:00.0 04:00.1\nGroup=take\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DRIVER(&d, "0000:04:00.0", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:04:00.1", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:04:00.2", "vfio-pci");
        /* The desktop's own GPU is left alone. */
        ASSERT_DRIVER(&d, "0000:01:00.0", "bochs-drm");
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(validate_bad_file) {
        Daemon d;
        _cleanup_free_ char *err = NULL, *log = NULL, *expected = NULL;
        static const char *const args[] = { "--validate", NULL };

        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\nGroup=sometimes\nDevice=zz:00.0\n", NULL);
        ASSERT_EXIT(&d, daemon_run(&d, args), 1);
        err = tree_read(d.root, "stderr");
        ASSERT_TRUE(asprintf(&expected, "%s/vfio-bind.conf:3:", d.root) > 0);
        ASSERT_CONTAINS(err, expected);
        free(expected);
        ASSERT_TRUE(asprintf(&expected, "%s/vfio-bind.conf:4:", d.root) > 0);
        ASSERT_CONTAINS(err, expected);
        log = daemon_log(&d);
        ASSERT_STREQ(log, "");
        daemon_done(&d);
}

TEST(invalid_config_touches_nothing) {
        Daemon d;
        _cleanup_free_ char *log = NULL;

        /* Not --validate: the daemon itself refuses to start on a bad file. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\nDriver=../../evil\n", NULL);
        ASSERT_EXIT(&d, daemon_run(&d, NULL), 1);
        ASSERT_DAEMON(&d, strstr(d.notify, "ERRNO="));
        log = daemon_log(&d);
        ASSERT_STREQ(log, "");
        ASSERT_DRIVER(&d, "0000:01:00.0", "bochs-drm");
        daemon_done(&d);
}

TEST(dry_run_writes_nothing) {
        Daemon d;
        _cleanup_free_ char *out = NULL, *log = NULL;
        static const char *const args[] = { "--dry-run", NULL };

        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", NULL);
        ASSERT_EXIT(&d, daemon_run(&d, args), 0);
        out = tree_read(d.root, "stdout");
        ASSERT_CONTAINS(out, "0000:01:00.0");
        ASSERT_CONTAINS(out, "0000:01:00.1");
        log = daemon_log(&d);
        ASSERT_STREQ(log, "");
        ASSERT_DRIVER(&d, "0000:01:00.0", "bochs-drm");
        daemon_done(&d);
}

TEST(once_exits_after_the_first_pass) {
        Daemon d;
        static const char *const args[] = { "--once", NULL };

        daemon_prepare(&d, "unbound", "[Bind]\nDevice=01:00\n", NULL);
        ASSERT_EXIT(&d, daemon_run(&d, args), 0);
        ASSERT_TRUE(d.ready);
        ASSERT_DRIVER(&d, "0000:01:00.0", "vfio-pci");
        daemon_done(&d);
}

/* The sysfs path of a PCI device of the testbed, as a uevent names it ("/sys/devices/…"). */
static char *device_syspath(const Daemon *d, const char *addr) {
        _cleanup_free_ char *link = NULL;
        char *real, *s;

        ASSERT_TRUE(asprintf(&link, "%s/sys/bus/pci/devices/%s", d->root, addr) > 0);
        real = realpath(link, NULL);
        ASSERT_TRUE(real);
        ASSERT_TRUE(strncmp(real, d->root, strlen(d->root)) == 0);
        s = strdup(real + strlen(d->root));
        free(real);
        ASSERT_TRUE(s);
        return s;
}

/* Count the occurrences of NEEDLE in HAYSTACK. */
static unsigned count(const char *haystack, const char *needle) {
        unsigned n = 0;
        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

TEST(hand_release_of_the_boot_gpu_keeps_the_console) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_free_ char *run = NULL, *gpu_path = NULL, *log = NULL, *bind = NULL;
        const char *const addrs[] = { "0000:01:00.0", "0000:01:00.1" };
        Daemon d;

        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n[Console]\nRelease=auto\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify, "console released"));
        ASSERT_DRIVER(&d, "0000:01:00.0", "vfio-pci");

        /* vfio-bind release of both functions, as the CLI does it: the mark first, then the
         * release; bochs-drm takes the GPU back and its framebuffer console comes up again. */
        ASSERT_OK(fake_kernel_new_context(d.k, &ctx));
        run = root_path(&d, "run");
        for (size_t i = 0; i < ELEMENTSOF(addrs); i++) {
                _cleanup_(vb_bind_result_done) VbBindResult res = {};
                VbPciAddress a;

                ASSERT_OK(vb_pci_address_parse(addrs[i], &a));
                ASSERT_OK(vb_runtime_set_released(run, &a, true));
                ASSERT_EQ(vb_release_device(ctx, &a, &res), 1);
        }
        ASSERT_DRIVER(&d, "0000:01:00.0", "bochs-drm");
        ASSERT_OK(fake_kernel_ops.write_attr(d.k, vb_context_sysfs_fd(ctx), "class/vtconsole/vtcon1/bind", "1"));

        /* The host driver's bind uevent, a reload, and a change uevent: none of them may take the
         * console from the host for a device that stays with the host. */
        gpu_path = device_syspath(&d, "0000:01:00.0");
        umockdev_testbed_uevent(d.tb, gpu_path, "bind");
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "0000:01:00.0 released by hand"));
        umockdev_testbed_uevent(d.tb, gpu_path, "change");
        umockdev_testbed_uevent(d.tb, gpu_path, "add");
        ASSERT_OK(kill(d.pid, SIGHUP) < 0 ? -errno : 0);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "RELOADING=1"));
        for (int64_t end = test_now_ms() + WAIT_MS; count(d.notify, "READY=1") < 2 && test_now_ms() < end;)
                ASSERT_DAEMON(&d, daemon_wait_notify(&d, "RELOADING=1"));
        ASSERT_DAEMON(&d, count(d.notify, "READY=1") >= 2);
        ASSERT_EXIT(&d, daemon_stop(&d), 0);

        log = daemon_log(&d);
        ASSERT_DAEMON(&d, count(log, "class/vtconsole/vtcon1/bind=0") == 1);
        bind = fake_kernel_read(d.k, "class/vtconsole/vtcon1/bind");
        ASSERT_STREQ(bind, "1");
        ASSERT_DRIVER(&d, "0000:01:00.0", "bochs-drm");
        ASSERT_DRIVER(&d, "0000:01:00.1", "snd_hda_intel");
        daemon_done(&d);
}

TEST(stage_2_says_what_the_initrd_bound) {
        _cleanup_free_ char *log = NULL, *initrd_release = NULL;
        Daemon d;

        /* vfio-bindd --once in the initrd (its /etc/initrd-release exists) binds the slot and marks
         * it under the runtime directory, which the switch to the real root keeps. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", NULL);
        ASSERT_OK(tree_write(d.root, "initrd-release", "NAME=initrd\n"));
        ASSERT_EQ(daemon_run(&d, (const char *const[]) { "--once", NULL }), 0);
        ASSERT_DRIVER(&d, "0000:01:00.0", "vfio-pci");
        ASSERT_TRUE(tree_exists(d.root, "run/bound-in-initrd/0000:01:00.0"));
        ASSERT_TRUE(tree_exists(d.root, "run/bound-in-initrd/0000:01:00.1"));

        /* Stage 2's service leaves them and says where they were bound. */
        initrd_release = root_path(&d, "initrd-release");
        ASSERT_OK(unlink(initrd_release) < 0 ? -errno : 0);
        daemon_forget_notifications(&d);
        d.status = -1;
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify,
                                 "2/2 devices on vfio-pci: 0000:01:00.0 0000:01:00.1; bound in the initrd: "
                                 "0000:01:00.0 0000:01:00.1"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, count(log, "driver_override=vfio-pci") == 2);
        daemon_done(&d);
}

TEST(in_initrd_marks_without_initrd_release) {
        _cleanup_free_ char *err = NULL;
        Daemon d;

        /* An initramfs-tools initramfs has no /etc/initrd-release: its boot script says
         * --in-initrd, and the marks are left as in a systemd initrd. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", NULL);
        ASSERT_EQ(daemon_run(&d, (const char *const[]) { "--once", "--in-initrd", NULL }), 0);
        ASSERT_DRIVER(&d, "0000:01:00.0", "vfio-pci");
        ASSERT_TRUE(tree_exists(d.root, "run/bound-in-initrd/0000:01:00.0"));
        ASSERT_TRUE(tree_exists(d.root, "run/bound-in-initrd/0000:01:00.1"));
        daemon_done(&d);

        /* Without it (and without the file), no mark: this is stage 2's --once. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", NULL);
        ASSERT_EQ(daemon_run(&d, (const char *const[]) { "--once", NULL }), 0);
        ASSERT_DRIVER(&d, "0000:01:00.0", "vfio-pci");
        ASSERT_FALSE(tree_exists(d.root, "run/bound-in-initrd/0000:01:00.0"));
        daemon_done(&d);

        /* It belongs to the initrd's pass: refused without --once, nothing touched. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", NULL);
        ASSERT_EQ(daemon_run(&d, (const char *const[]) { "--in-initrd", NULL }), 2);
        err = tree_read(d.root, "stderr");
        ASSERT_CONTAINS(err, "--in-initrd is for the initrd's pass and needs --once");
        ASSERT_DRIVER(&d, "0000:01:00.0", "bochs-drm");
        daemon_done(&d);
}

/* Behind Intel VMD (tests/sysfs/vmd): addresses in domain 10000 from the kernel command line, one
 * present at start and one hot-plugged later, whose uevent names it with its 5-digit domain. */
TEST(vmd_domain_from_the_kernel_command_line_and_hotplug) {
        Daemon d;
        _cleanup_free_ char *syspath = NULL, *log = NULL, *cmdline = NULL;

        daemon_prepare(&d, "vmd", "[Bind]\nGroup=ignore\nTimeout=60s\n", NULL);
        cmdline = tree_read(d.root, "proc/cmdline");
        ASSERT_TRUE(cmdline);
        {
                _cleanup_free_ char *c = NULL;
                ASSERT_TRUE(asprintf(&c, "%s vfio-bind.device=10000:e1:00.0,10000:e2:00.0\n", cmdline) > 0);
                ASSERT_OK(tree_write(d.root, "proc/cmdline", c));
        }
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "10000:e2:00.0"));
        ASSERT_DAEMON(&d, wait_driver(&d, "10000:e1:00.0", "vfio-pci"));
        ASSERT_DAEMON(&d, !d.ready);

        syspath = hotplug_with_uevents(&d, "10000:e2:00.0");

        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, wait_driver(&d, "10000:e2:00.0", "vfio-pci"));
        ASSERT_DAEMON(&d, strstr(d.notify, "2/2 devices on vfio-pci: 10000:e1:00.0 10000:e2:00.0"));
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, strstr(log,
                                 "bus/pci/devices/10000:e1:00.0/driver_override=vfio-pci\n"
                                 "bus/pci/drivers/nvme/unbind=10000:e1:00.0\n"
                                 "bus/pci/drivers_probe=10000:e1:00.0\n"));
        ASSERT_DAEMON(&d, strstr(log,
                                 "bus/pci/devices/10000:e2:00.0/driver_override=vfio-pci\n"
                                 "bus/pci/drivers/nvme/unbind=10000:e2:00.0\n"
                                 "bus/pci/drivers_probe=10000:e2:00.0\n"));
        ASSERT_DRIVER(&d, "10000:e0:17.0", "ahci");
        ASSERT_DRIVER(&d, "0000:00:0e.0", "vmd");
        /* The plan's warning, as check says it, in the journal once for each device bound. */
        {
                _cleanup_free_ char *err = tree_read(d.root, "stderr");
                ASSERT_EQ(count(err,
                                "10000:e1:00.0 is behind the VMD controller 0000:00:0e.0 (Intel Volume "
                                "Management Device)"),
                          1u);
                ASSERT_EQ(count(err, "10000:e2:00.0 is behind the VMD controller 0000:00:0e.0"), 1u);
        }
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(status_keeps_saying_what_was_rolled_back) {
        _cleanup_free_ char *gpu_path = NULL;
        Daemon d;

        /* vfio-pci refuses the audio function: the GPU is put back. The rollback's own bind uevent
         * (bochs-drm taking the GPU again) makes another pass, whose status must still say so. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\n", "refuse vfio-pci 0000:01:00.1\n");
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify, "0000:01:00.0 rolled back to bochs-drm"));
        ASSERT_DRIVER(&d, "0000:01:00.0", "bochs-drm");
        free(d.notify);
        d.notify = strdup("");
        gpu_path = device_syspath(&d, "0000:01:00.0");
        umockdev_testbed_uevent(d.tb, gpu_path, "bind");
        ASSERT_OK(kill(d.pid, SIGHUP) < 0 ? -errno : 0);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "RELOADING=1"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        /* The reload forgot the failure and tried the group again: rolled back again, no retry loop
         * in between. */
        ASSERT_DAEMON(&d, !strstr(d.notify, "0000:01:00.0 refused: IOMMU group"));
        ASSERT_DRIVER(&d, "0000:01:00.0", "bochs-drm");
        ASSERT_DRIVER(&d, "0000:01:00.1", "snd_hda_intel");
        daemon_done(&d);
}

TEST(sriov_vfs_created_and_bound_at_start_and_on_hotplug) {
        Daemon d;
        _cleanup_free_ char *log = NULL, *err = NULL, *syspath = NULL;

        /* Both 82576 ports' VFs at start; the NVMe PF, hot-plugged later, gets its VFs when it
         * arrives. No host VF driver (igbvf, nvme) binds a VF at any moment. */
        daemon_prepare(&d, "sriov",
                       "[Bind]\nVirtualFunctions=03:00.0 2\nVirtualFunctions=03:00.1 1\nVirtualFunctions=02:00.0 2\n"
                       "Timeout=60s\n",
                       NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "virtual functions on vfio-pci: 0000:03:00.0 2/2, 0000:03:00.1 1/1"));
        ASSERT_DAEMON(&d, strstr(d.notify, "3/3 devices on vfio-pci: 0000:03:10.0 0000:03:10.1 0000:03:10.2"));
        ASSERT_DAEMON(&d, !d.ready); /* the NVMe drive is awaited */
        ASSERT_DRIVER(&d, "0000:03:10.0", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:03:10.2", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:03:10.1", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:03:00.0", "igb");
        ASSERT_DRIVER(&d, "0000:03:00.1", "igb");

        syspath = hotplug_with_uevents(&d, "0000:02:00.0");
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:02:00.2", "vfio-pci"));
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "0000:02:00.0 2/2"));
        ASSERT_DRIVER(&d, "0000:02:00.1", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:02:00.0", "nvme");

        log = daemon_log(&d);
        ASSERT_DAEMON(&d, strstr(log,
                                 "bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe=0\n"
                                 "bus/pci/devices/0000:03:00.0/sriov_numvfs=2\n"
                                 "bus/pci/devices/0000:03:10.0/driver_override=vfio-pci\n"
                                 "bus/pci/devices/0000:03:10.2/driver_override=vfio-pci\n"
                                 "bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe=1\n"));
        ASSERT_DAEMON(&d, !strstr(log, "igbvf"));
        ASSERT_DAEMON(&d, !strstr(log, "drivers/nvme/bind"));
        ASSERT_DAEMON(&d, !strstr(log, "VIOLATION"));
        err = tree_read(d.root, "stderr");
        ASSERT_DAEMON(&d, strstr(err,
                                 "0000:03:00.0: created 2 virtual functions for vfio-pci, sriov_drivers_autoprobe "
                                 "off while they were created: 0000:03:10.0 0000:03:10.2"));
        ASSERT_DAEMON(&d, strstr(err, "0000:03:00.0: 2/2 virtual functions on vfio-pci"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(sriov_refusal_writes_nothing_and_says_why) {
        Daemon d;
        _cleanup_free_ char *log = NULL;

        daemon_prepare(&d, "sriov", "[Bind]\nVirtualFunctions=03:00.0 8\nVirtualFunctions=01:00.0 1\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify,
                                 "0000:03:00.0: refused: VirtualFunctions= asks for 8 virtual functions, "
                                 "and 0000:03:00.0 has at most 7 (sriov_totalvfs)"));
        ASSERT_DAEMON(&d, strstr(d.notify,
                                 "0000:01:00.0: refused: 0000:01:00.0 [8086:10d3] is not an SR-IOV physical "
                                 "function"));
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, !strstr(log, "sriov"));
        ASSERT_DAEMON(&d, !strstr(log, "driver_override"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(sriov_numvfs_that_hangs_does_not_hold_ready) {
        Daemon d;

        /* igb hangs 6 s in its sriov_configure: READY=1 after Timeout= (2 s), the status says what
         * hangs, and once the write returns the VFs are bound. A failed creation is not retried
         * in a loop meanwhile. */
        daemon_prepare(&d, "sriov", "[Bind]\nVirtualFunctions=03:00.0 2\nTimeout=2s\n",
                       "hang bus/pci/devices/0000:03:00.0/sriov_numvfs 6000\n");
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        /* READY=1 came while the write still hung: the VFs are not there yet */
        ASSERT_DAEMON(&d, !fake_kernel_device_exists(d.k, "0000:03:10.0") || !strstr(d.notify, "0000:03:00.0 2/2"));
        ASSERT_DAEMON(&d, strstr(d.notify,
                                 "0000:03:00.0: stuck: creating 2 virtual functions, writing \"2\" to "
                                 "bus/pci/devices/0000:03:00.0/sriov_numvfs has not returned after 2s"));
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:03:10.2", "vfio-pci"));
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "virtual functions on vfio-pci: 0000:03:00.0 2/2"));
        ASSERT_DRIVER(&d, "0000:03:10.0", "vfio-pci");
        {
                _cleanup_free_ char *log = daemon_log(&d), *autoprobe = NULL;
                const char *first = strstr(log, "sriov_numvfs=");
                ASSERT_DAEMON(&d, first && !strstr(first + 1, "sriov_numvfs="));
                autoprobe = fake_kernel_read(d.k, "bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe");
                ASSERT_STREQ(autoprobe, "1");
        }
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(sriov_failed_creation_is_not_retried_until_the_pf_is_added_anew) {
        Daemon d;
        _cleanup_free_ char *log = NULL, *syspath = NULL;

        daemon_prepare(&d, "sriov", "[Bind]\nVirtualFunctions=03:00.0 2\n",
                       "fail bus/pci/devices/0000:03:00.0/sriov_numvfs EIO 1\n");
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify,
                                 "0000:03:00.0: creating 2 virtual functions failed while writing "
                                 "sriov_numvfs: Input/output error (0 created; sriov_drivers_autoprobe back on)"));
        /* a bind uevent of the PF (its driver) does not retry it */
        ASSERT_TRUE(asprintf(&syspath, "/sys/devices/pci0000:00/0000:00:03.0/0000:03:00.0") > 0);
        umockdev_testbed_uevent(d.tb, syspath, "bind");
        usleep(500 * 1000);
        log = daemon_log(&d);
        ASSERT_DAEMON(&d, strstr(log, "sriov_numvfs=2 -> -EIO") &&
                                  !strstr(strstr(log, "sriov_numvfs=2") + 1, "sriov_numvfs"));
        /* added anew: tried again, and now it works */
        umockdev_testbed_uevent(d.tb, syspath, "add");
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:03:10.2", "vfio-pci"));
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "0000:03:00.0 2/2"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(count_includes_selectors_that_match_nothing) {
        Daemon d;

        /* Two functions bound, one ID selector matching nothing: 2 of 3, not 2 of 2. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00 10de:13c0\nTimeout=0\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify, "2/3 devices on vfio-pci: 0000:01:00.0 0000:01:00.1"));
        ASSERT_DAEMON(&d, strstr(d.notify, "no device matches 10de:13c0"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

/* How many times S occurs in the fake kernel's log. */
static size_t log_count(const Daemon *d, const char *s) {
        _cleanup_free_ char *log = daemon_log(d);
        size_t n = 0;
        for (const char *p = log; (p = strstr(p, s)); p += strlen(s))
                n++;
        return n;
}

TEST(failed_hotplug_bind_is_retried_on_add_not_on_its_own_bind) {
        Daemon d;
        _cleanup_free_ char *syspath = NULL;
        const char *attempt = "bus/pci/devices/0000:03:00.0/driver_override=vfio-pci\n";

        /* vfio-pci's probe refuses the NIC: the bind fails, e1000e gets it back, and the bind
         * uevent of that rollback must not start another try; a new add does. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=0000:03:00.0\nTimeout=0\n", "refuse vfio-pci 0000:03:00.0\n");
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        syspath = hotplug_with_uevents(&d, "0000:03:00.0");
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "0000:03:00.0 binding to vfio-pci failed"));
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:03:00.0", "e1000e"));
        ASSERT_EQ(log_count(&d, attempt), 1);

        /* the rollback's own bind uevent (e1000e took it back): no new try, and the pass it brings
         * says the failure in the same words from the daemon's memory (or says nothing new) */
        daemon_forget_notifications(&d);
        umockdev_testbed_uevent(d.tb, syspath, "bind");
        usleep(500 * 1000);
        (void) daemon_wait_notify_ms(&d, "no such notification", 300);
        ASSERT_EQ(log_count(&d, attempt), 1);
        ASSERT_DAEMON(&d,
                      !strstr(d.notify, "STATUS=") ||
                              strstr(d.notify, "0000:03:00.0 binding to vfio-pci failed: the driver did not take it"));
        ASSERT_DAEMON(&d, !strstr(d.notify, "failed before"));

        /* added anew: tried again */
        umockdev_testbed_uevent(d.tb, syspath, "add");
        for (int i = 0; i < 100 && log_count(&d, attempt) < 2; i++)
                usleep(50 * 1000);
        ASSERT_EQ(log_count(&d, attempt), 2);
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(add_of_a_device_whose_write_hangs_keeps_saying_so) {
        Daemon d;
        _cleanup_free_ char *gpu_path = NULL;

        /* bochs-drm hangs in its remove for 8 s. An add uevent for the GPU meanwhile must not
         * forget why it is left alone: the status keeps naming the write that hangs, and the
         * device is not tried again until that write returns. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\nTimeout=2s\n",
                       "hang bus/pci/drivers/bochs-drm/unbind 8000\n");
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DAEMON(&d, strstr(d.notify,
                                 "0000:01:00.0 stuck: writing \"0000:01:00.0\" to bus/pci/drivers/bochs-drm/unbind"));
        gpu_path = device_syspath(&d, "0000:01:00.0");
        umockdev_testbed_uevent(d.tb, gpu_path, "add");
        ASSERT_DAEMON(&d, !daemon_wait_notify_ms(&d, "0000:01:00.0 failed before", 1500));
        ASSERT_EQ(log_count(&d, "bus/pci/devices/0000:01:00.0/driver_override=vfio-pci\n"), 1);
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:01:00.0", "vfio-pci"));
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:01:00.1", "vfio-pci"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(removal_of_a_bound_device_is_reported) {
        Daemon d;
        _cleanup_free_ char *devpath = NULL, *syspath = NULL, *dir = NULL, *uevent = NULL, *subsystem = NULL;

        /* The NIC is hot-added and bound, then pulled out: the remove uevent of a device the
         * daemon looks after is news, and the status stops claiming it is on vfio-pci. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=0000:03:00.0\nTimeout=0\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_EQ(fake_kernel_plug(d.k, "0000:03:00.0", &devpath), 1);
        ASSERT_TRUE(asprintf(&syspath, "/sys/%s", devpath) > 0);
        umockdev_testbed_uevent(d.tb, syspath, "add");
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "1/1 devices on vfio-pci"));

        /* The kernel sends remove once the device is off the bus; umockdev builds the message
         * from the device's uevent file and subsystem link, so these alone are put back. */
        daemon_forget_notifications(&d);
        ASSERT_OK(fake_kernel_unplug(d.k, "0000:03:00.0"));
        ASSERT_TRUE(asprintf(&dir, "%s%s", d.root, syspath) > 0);
        ASSERT_OK(mkdir(dir, 0755) < 0 ? -errno : 0);
        ASSERT_TRUE(asprintf(&uevent, "%s/uevent", syspath + 1) > 0);
        ASSERT_OK(tree_write(d.root, uevent, "DRIVER=vfio-pci\nPCI_SLOT_NAME=0000:03:00.0\n"));
        ASSERT_TRUE(asprintf(&subsystem, "%s/subsystem", syspath + 1) > 0);
        ASSERT_OK(tree_symlink(d.root, "../../../../bus/pci", subsystem));
        umockdev_testbed_uevent(d.tb, syspath, "remove");
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "0/1 devices on vfio-pci; 0000:03:00.0 missing"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(a_device_added_again_before_a_pass_saw_it_gone_is_logged_again) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_bind_result_done) VbBindResult res = {};
        _cleanup_free_ char *devpath = NULL, *syspath = NULL, *err = NULL;
        const char *bound = "0000:03:00.0: bound to vfio-pci (was e1000e)";
        VbPciAddress a;
        Daemon d;

        /* A NIC hot-added and bound, then pulled out and added again so fast that the removal
         * and the new add reach the daemon in one pass: the new NIC is bound in the same words as
         * the old one, and its bind is logged all the same (one journal entry per bind). */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=0000:03:00.0\nTimeout=0\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        /* Only the add is sent: a bind uevent still queued would start a pass after STATUS= says
         * 1/1, and that pass would take the NIC back while it is being put on e1000e below. */
        ASSERT_EQ(fake_kernel_plug(d.k, "0000:03:00.0", &devpath), 1);
        ASSERT_TRUE(asprintf(&syspath, "/sys/%s", devpath) > 0);
        umockdev_testbed_uevent(d.tb, syspath, "add");
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "1/1 devices on vfio-pci"));
        err = tree_read(d.root, "stderr");
        ASSERT_EQ(count(err, bound), 1u);

        /* the new NIC: no override, on e1000e, as a device_add leaves it */
        ASSERT_OK(fake_kernel_new_context(d.k, &ctx));
        ASSERT_OK(vb_pci_address_parse("0000:03:00.0", &a));
        ASSERT_EQ(vb_release_device(ctx, &a, &res), 1);
        ASSERT_DRIVER(&d, "0000:03:00.0", "e1000e");
        daemon_forget_notifications(&d);
        umockdev_testbed_uevent(d.tb, syspath, "add");
        umockdev_testbed_uevent(d.tb, syspath, "bind");
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:03:00.0", "vfio-pci"));
        /* the report follows the bind: up to 5 s */
        for (int i = 0; i < 100; i++) {
                free(err);
                err = tree_read(d.root, "stderr");
                if (count(err, bound) >= 2)
                        break;
                usleep(50 * 1000);
        }
        ASSERT_EQ(count(err, bound), 2u);
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

/* What libvirt's reattach of a managed='yes' hostdev does (or driverctl, or a udev rule): the
 * override cleared, the VFIO driver unbound, the host drivers probed; then the kernel's bind
 * uevent. */
static void give_to_host(Daemon *d, const char *addr, const char *syspath) {
        _cleanup_free_ char *override = NULL;
        _cleanup_close_ int fd = open(fake_kernel_sysfs_root(d->k), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(asprintf(&override, "bus/pci/devices/%s/driver_override", addr) > 0);
        ASSERT_OK(fake_kernel_ops.write_attr(d->k, fd, override, "\n"));
        ASSERT_OK(fake_kernel_ops.write_attr(d->k, fd, "bus/pci/drivers/vfio-pci/unbind", addr));
        ASSERT_OK(fake_kernel_ops.write_attr(d->k, fd, "bus/pci/drivers_probe", addr));
        umockdev_testbed_uevent(d->tb, syspath, "bind");
}

TEST(a_device_given_back_to_its_host_driver_again_and_again_is_not_fought_over) {
        const char *attempt = "bus/pci/devices/0000:02:00.0/driver_override=vfio-pci\n";
        _cleanup_free_ char *syspath = NULL;
        Daemon d;

        /* The NIC is bound at start. Something gives it to e1000e: vfio-bindd takes it back, and
         * says so; the third time within a minute it stops, and STATUS= says who keeps taking it. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=0000:02:00.0\n", NULL);
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DRIVER(&d, "0000:02:00.0", "vfio-pci");
        syspath = device_syspath(&d, "0000:02:00.0");
        for (unsigned i = 1; i <= 3; i++) {
                daemon_forget_notifications(&d);
                give_to_host(&d, "0000:02:00.0", syspath);
                for (int k = 0; k < 200 && log_count(&d, attempt) < i + 1; k++)
                        usleep(25 * 1000);
                ASSERT_EQ(log_count(&d, attempt), i + 1);
                ASSERT_DAEMON(&d, wait_driver(&d, "0000:02:00.0", "vfio-pci"));
        }
        ASSERT_DAEMON(&d, daemon_wait_notify(&d,
                                             "0000:02:00.0 e1000e took it back 3 times within 60s after "
                                             "vfio-bindd had bound it to vfio-pci"));
        ASSERT_DAEMON(&d, strstr(d.notify, "vfio-bindd no longer takes it back"));

        /* the fourth time: left on e1000e, said in the same words, no write */
        daemon_forget_notifications(&d);
        give_to_host(&d, "0000:02:00.0", syspath);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "now on e1000e"));
        ASSERT_DAEMON(&d, strstr(d.notify, "e1000e took it back 3 times"));
        ASSERT_DRIVER(&d, "0000:02:00.0", "e1000e");
        ASSERT_EQ(log_count(&d, attempt), 4);
        {
                _cleanup_free_ char *text = tree_read(d.root, "stderr");

                ASSERT_TRUE(text);
                ASSERT_CONTAINS(text,
                                "0000:02:00.0: e1000e got it back after vfio-bindd had bound it: bound to "
                                "vfio-pci again (1 of 3 times within 60s before vfio-bindd stops taking it back)");
                ASSERT_CONTAINS(text, "(2 of 3 times");
        }

        /* a reload tries again */
        daemon_forget_notifications(&d);
        ASSERT_OK(kill(d.pid, SIGHUP) < 0 ? -errno : 0);
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:02:00.0", "vfio-pci"));
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TEST(a_new_member_of_a_group_taken_is_taken_too) {
        Daemon d;
        _cleanup_free_ char *devpath = NULL, *syspath = NULL;

        /* The GPU and its audio function are taken (Group=take). A NIC hot-added behind a bridge
         * without ACS joins their IOMMU group: the configuration does not select it, but its add
         * concerns a group the daemon looks after, which is taken whole again. */
        daemon_prepare(&d, "desktop", "[Bind]\nDevice=01:00\nGroup=take\n", "hotplug 0000:03:00.0 0000:00:03.0 1\n");
        daemon_start(&d, NULL);
        ASSERT_DAEMON(&d, daemon_wait_notify(&d, "READY=1"));
        ASSERT_DRIVER(&d, "0000:01:00.0", "vfio-pci");
        ASSERT_DRIVER(&d, "0000:01:00.1", "vfio-pci");
        ASSERT_EQ(fake_kernel_plug(d.k, "0000:03:00.0", &devpath), 1);
        ASSERT_TRUE(asprintf(&syspath, "/sys/%s", devpath) > 0);
        umockdev_testbed_uevent(d.tb, syspath, "add");
        ASSERT_DAEMON(&d, wait_driver(&d, "0000:03:00.0", "vfio-pci"));
        ASSERT_DRIVER(&d, "0000:01:00.0", "vfio-pci");
        ASSERT_EXIT(&d, daemon_stop(&d), 0);
        daemon_done(&d);
}

TESTS_MAIN()
