/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "time-util.h"

#define PID_FMT "%d"

static const char *log_identifier = "vfio-bindd";
static int log_max_level = LOG_INFO;
static int log_journal = -1;
static unsigned log_journal_sent; /* entries sent through the native protocol */
static bool log_kmsg;             /* SYSTEMD_LOG_TARGET=kmsg: the kernel log, one record a message */

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void vbd_log_open(const char *identifier) {
        const char *level = getenv("SYSTEMD_LOG_LEVEL");

        const char *target = getenv("SYSTEMD_LOG_TARGET");

        if (identifier)
                log_identifier = identifier;
        log_journal = stderr_is_journal();
        /* An initrd without systemd (initramfs-tools) has no journal: its boot script asks for the
         * kernel log, which the journal of the real root reads later. Unwritable: stderr. */
        if (target && streq(target, "kmsg")) {
                int fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);

                if (fd >= 0) {
                        log_kmsg = true;
                        log_journal = 0;
                        close(fd);
                }
        }
        if (level && (streq(level, "debug") || streq(level, "7")))
                log_max_level = LOG_DEBUG;
}

int vbd_log_get_max_level(void) {
        return log_max_level;
}

bool vbd_log_to_kmsg(void) {
        return log_kmsg;
}

bool vbd_log_to_journal(void) {
        if (log_journal < 0)
                log_journal = stderr_is_journal();
        return log_journal > 0;
}

int vbd_log_fullv(int priority, const VbdLogFields *f, const char *format, va_list ap) {
        int saved_errno = errno;
        char message[2048];

        if (priority > log_max_level)
                goto out;

        vsnprintf(message, sizeof(message), format, ap);

        if (vbd_log_to_journal()) {
                char *fields[8] = {};
                struct iovec iov[8];
                size_t n = 0;

#define FIELD(...)                                          \
        do {                                                \
                if (asprintf(&fields[n], __VA_ARGS__) >= 0) \
                        n++;                                \
        } while (0)
                FIELD("MESSAGE=%s", message);
                FIELD("PRIORITY=%d", priority);
                FIELD("SYSLOG_IDENTIFIER=%s", log_identifier);
                if (f && f->device)
                        FIELD("VFIO_BIND_DEVICE=%s", VB_PCI_ADDRESS_STR(f->device));
                if (f && f->action) {
                        FIELD("VFIO_BIND_ACTION=%s", f->action);
                        FIELD("VFIO_BIND_DRIVER_BEFORE=%s", f->driver_before ?: "none");
                        FIELD("VFIO_BIND_DRIVER_AFTER=%s", f->driver_after ?: "none");
                }
                if (f && f->error)
                        FIELD("ERRNO=%d", abs(f->error));
#undef FIELD
                for (size_t i = 0; i < n; i++)
                        iov[i] = (struct iovec) { .iov_base = fields[i], .iov_len = strlen(fields[i]) };
                if (sd_journal_sendv(iov, (int) n) < 0)
                        fprintf(stderr, "%s: %s\n", log_identifier, message);
                else
                        log_journal_sent++;
                for (size_t i = 0; i < n; i++)
                        free(fields[i]);
        } else if (log_kmsg) {
                char record[sizeof(message) + 64];
                int n, fd;

                /* One write is one record; "<N>" is its facility and level. The kernel limits the
                 * records of one open /dev/kmsg to 10 in 5 s (printk.devkmsg=ratelimit, the
                 * default) and drops the rest without an error: a pass over a GPU of four functions
                 * says more than that, so each record opens it anew. */
                n = snprintf(record, sizeof(record), "<%d>%s[" PID_FMT "]: %s\n", LOG_DAEMON | priority, log_identifier,
                             getpid(), message);
                fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
                if (n < 0 || fd < 0 ||
                    write(fd, record, (size_t) n < sizeof(record) ? (size_t) n : sizeof(record) - 1) < 0)
                        fprintf(stderr, "%s: %s\n", log_identifier, message);
                if (fd >= 0)
                        close(fd);
        } else
                fprintf(stderr, "%s: %s\n", log_identifier, message);

out:
        errno = saved_errno;
        return f && f->error ? -abs(f->error) : 0;
}

int vbd_log_full(int priority, const VbdLogFields *f, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vbd_log_fullv(priority, f, format, ap);
        va_end(ap);
        return r;
}

void vbd_log_library(void *userdata, int priority, const char *file, int line, const char *fn, const char *format,
                     va_list args) {
        vbd_log_fullv(priority, NULL, format, args);
}

void vbd_log_sync(uint64_t timeout_usec) {
        sd_journal *j = NULL;
        uint64_t deadline = vb_now_usec() + timeout_usec;
        sd_id128_t boot;
        char match[64];

        if (log_journal_sent == 0 || sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY) < 0)
                return;
        snprintf(match, sizeof(match), "_PID=" PID_FMT, getpid());
        if (sd_journal_add_match(j, match, 0) < 0)
                goto finish;
        /* Only this boot's entries: a PID repeats across boots. */
        if (sd_id128_get_boot(&boot) >= 0) {
                char b[SD_ID128_STRING_MAX];
                snprintf(match, sizeof(match), "_BOOT_ID=%s", sd_id128_to_string(boot, b));
                if (sd_journal_add_match(j, match, 0) < 0)
                        goto finish;
        }

        for (;;) {
                unsigned n = 0;
                uint64_t now;

                sd_journal_seek_head(j);
                while (sd_journal_next(j) > 0)
                        n++;
                if (n >= log_journal_sent)
                        break;
                now = vb_now_usec();
                if (now >= deadline)
                        break;
                (void) sd_journal_wait(j, deadline - now);
        }
finish:
        sd_journal_close(j);
}
