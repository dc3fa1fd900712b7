/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "coverage.h"
#include "deadline.h"
#include "diagnostics.h"
#include "load.h"
#include "macro.h"
#include "pci.h"
#include "sysfs.h"
#include "time-util.h"

/* ---- the parent: watch the writes ---- */

/* max(Timeout=, 5 s), as the daemon's binds once it is running; the configuration's errors are
 * the child's to report. */
static uint64_t deadline_usec(const VbcArgs *a) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        uint64_t t = 10 * USEC_PER_SEC;

        if (vb_platform_open_context(a->platform, &ctx) >= 0 &&
            vb_config_load_all_at(ctx, vb_platform_config_root(a->platform), a->config_path, &c, &diag) >= 0 && c)
                t = c->timeout_usec;
        return t > 5 * USEC_PER_SEC ? t : 5 * USEC_PER_SEC;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* The device a write concerns: its value (unbind, bind, drivers_probe: the address) or its path
 * (bus/pci/devices/ADDR/…). */
static bool write_device(const char *path, const char *value, VbPciAddress *ret) {
        const char *p = strstr(path, "devices/");
        char addr[32];

        if (vb_pci_address_parse(value, ret) >= 0)
                return true;
        if (!p)
                return false;
        p += strlen("devices/");
        snprintf(addr, sizeof(addr), "%.*s", (int) strcspn(p, "/"), p);
        return vb_pci_address_parse(addr, ret) >= 0;
}

/* Where the device is now, from its driver link alone: an attribute such as driver_override or
 * uevent may wait for the device's lock, which the hanging write holds (Linux 6.1). */
static void print_device_now(const VbcArgs *a, const VbPciAddress *addr) {
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_free_ char *driver = NULL;
        const char *link = VB_PCI_DEVICE_PATH(addr, "driver");
        int r;

        if (!link || vb_platform_open_context(a->platform, &ctx) < 0)
                return;
        r = vb_sysfs_readlink_basename(ctx, link, &driver);
        if (r < 0 && r != -ENOENT)
                return;
        fprintf(stderr, "vfio-bind: %s is now on %s\n", VB_PCI_ADDRESS_STR(addr), driver ?: "no driver");
}

static int stuck(const VbcArgs *a, pid_t child, const char *kind, const char *what, const char *value,
                 uint64_t timeout) {
        char t[32];
        VbPciAddress addr;

        vb_format_duration(timeout, t, sizeof(t));
        if (streq(kind, "M"))
                fprintf(stderr,
                        "vfio-bind: loading the module of %s has not returned after %s; nothing more is written\n",
                        what, t);
        else
                fprintf(stderr,
                        "vfio-bind: writing \"%s\" to /sys/%s has not returned after %s; nothing more is written. "
                        "The kernel cannot cancel the write: the process stays in it until the driver lets go "
                        "(a program or a VM holding the device, a driver that hangs in its remove)\n",
                        value, what, t);
        if (!streq(kind, "M") && write_device(what, value, &addr))
                print_device_now(a, &addr);
        /* dies as soon as the write returns, before any further write */
        (void) kill(child, SIGKILL);
        return VBC_EXIT_STUCK;
}

/* Copy what is readable on FD to OUT; false at end of file. */
static bool relay(int fd, FILE *out) {
        char chunk[4096];
        ssize_t n;

        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        fwrite(chunk, 1, (size_t) n, out);
        fflush(out);
        return true;
}

/* The progress lines in BUF (SIZE bytes): *KIND, *WHAT, *VALUE of the write in flight (KIND NULL:
 * none), *SINCE when it began. */
static int parse_progress(char *buf, size_t *size, char **kind, char **what, char **value, uint64_t *since) {
        size_t start = 0;
        char *nl;

        while ((nl = memchr(buf + start, '\n', *size - start))) {
                char *line = buf + start, *f1, *f2;

                *nl = '\0';
                start = (size_t) (nl - buf) + 1;
                f1 = strchr(line, '\t');
                f2 = f1 ? strchr(f1 + 1, '\t') : NULL;
                free(*kind);
                *kind = NULL;
                if (line[0] != 'D' && f1 && f2) {
                        *f1 = *f2 = '\0';
                        free(*what);
                        free(*value);
                        *kind = strdup(line);
                        *what = strdup(f1 + 1);
                        *value = strdup(f2 + 1);
                        if (!*kind || !*what || !*value)
                                return -ENOMEM;
                        *since = now_usec();
                }
        }
        /* the start of a line still to come, to the front (byte by byte: the regions overlap) */
        for (size_t i = start; i < *size; i++)
                buf[i - start] = buf[i];
        *size -= start;
        return 0;
}

int vbc_run_with_deadline(VbcArgs *a, int (*verb)(const VbcArgs *, const char *), const char *address) {
        _cleanup_free_ char *kind = NULL, *what = NULL, *value = NULL;
        uint64_t timeout = deadline_usec(a), since = 0;
        char buf[8192];
        size_t size = 0;
        int progress[2], out[2], err[2], st;
        bool open_progress = true, open_out = true, open_err = true;
        pid_t pid;

        /* The child's output comes through this process: a caller that reads it to its end (a
         * shell's $(…), a hook's pipe) is not held by a child that stays stuck in the kernel. */
        if (pipe2(progress, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
                fprintf(stderr, "vfio-bind: Failed to create a pipe: %m\n");
                return 1;
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                fprintf(stderr, "vfio-bind: Failed to fork: %m\n");
                return 1;
        }
        if (pid == 0) {
                if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0)
                        vb_coverage_exit(1);
                a->progress_fd = progress[1];
                st = verb(a, address);
                fflush(NULL);
                vb_coverage_exit(st);
        }
        close(progress[1]);
        close(out[1]);
        close(err[1]);

        while (open_progress || open_out || open_err) {
                struct pollfd p[3] = {
                        { .fd = open_progress ? progress[0] : -1, .events = POLLIN },
                        { .fd = open_out ? out[0] : -1, .events = POLLIN },
                        { .fd = open_err ? err[0] : -1, .events = POLLIN },
                };
                int wait_ms = -1, r;

                if (kind) {
                        uint64_t now = now_usec();
                        if (now >= since + timeout) {
                                /* what the child said before it got stuck, then why it ends here */
                                while (open_out && poll(&p[1], 1, 0) > 0 && relay(out[0], stdout))
                                        ;
                                while (open_err && poll(&p[2], 1, 0) > 0 && relay(err[0], stderr))
                                        ;
                                return stuck(a, pid, kind, what, value, timeout);
                        }
                        wait_ms = (int) ((since + timeout - now + 999) / 1000);
                }
                r = poll(p, 3, wait_ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        continue;
                if (p[1].revents)
                        open_out = relay(out[0], stdout);
                if (p[2].revents)
                        open_err = relay(err[0], stderr);
                if (p[0].revents) {
                        ssize_t n = read(progress[0], buf + size, sizeof(buf) - size - 1);

                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                open_progress = false;
                                continue;
                        }
                        size += (size_t) n;
                        if (parse_progress(buf, &size, &kind, &what, &value, &since) < 0)
                                return stuck(a, pid, "W", "(out of memory)", "", 0);
                        if (size >= sizeof(buf) - 1) /* a line that cannot be: drop it */
                                size = 0;
                }
        }
        close(progress[0]);
        close(out[0]);
        close(err[0]);
        if (waitpid(pid, &st, 0) != pid)
                return 1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
