/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: lib/archive.c's reader, what `--root=FILE` does with a tar archive a stranger
 * sent with a bug report. The input is the archive, handed over as a file (a memfd) the way
 * lib/replay opens one.
 *
 * vb_archive_read() on the whole input. Oracles: the return value is 0, -EINVAL with an error
 * "member \"NAME\": why", or -ENOMEM; every member reported has a name vb_archive_name_check()
 * would accept, checked here on its own (not empty, not absolute, no empty or ".." component,
 * under 4096 bytes), a known type, mode bits only, a directory or link no data, a link a target;
 * its own header, found from where the reader is in the input, has a valid checksum and that
 * type's flag (so a hard link, a device or a FIFO is never handed on as anything), and a file's
 * data are the bytes after it; a file at most VB_ARCHIVE_FILE_MAX bytes, all of them readable; the
 * members and their data never outnumber or outweigh the input (each takes a header block and its
 * padded data).
 *
 * Truncation: the input cut short (one byte off the end, at a point taken from the input's hash,
 * and that point rounded down to a block) reads as a prefix of the whole input's members, data
 * and all; a cut that is not on a block boundary is an error unless the reader stopped at the
 * end-of-archive block before it, and then the whole input read the same members and succeeded.
 *
 * vb_archive_extract() into an empty directory "top" of a scratch directory (under $TMPDIR;
 * tools/fuzz.sh uses /dev/shm), when the read reported a member: it fails whenever the read
 * failed; afterwards the scratch directory holds "top" and nothing else (nothing was written
 * beside it), and below "top" there are only regular files with one link, directories and
 * symbolic links, each named as a member was (a directory: a member or a member's parent), a
 * file with a member's size, a link with a member's target; every link stays below "top", both
 * by its text (its "..", counted from where it is, never climb above "top") and as the kernel
 * resolves it (openat2() with RESOLVE_BENEATH never says EXDEV; skipped where openat2() is
 * missing: kernels before 5.6, valgrind 3.19).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "archive.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BLOCK 512
/* Larger inputs are not fuzzed (libFuzzer's are a few KiB); the replays of the dumps are. */
#define INPUT_MAX (1024 * 1024)

typedef struct Seen {
        char *name;
        char *path; /* NAME without its "." components: where it is unpacked */
        VbArchiveType type;
        unsigned mode;
        char *data;
        size_t size;
        char *target;
} Seen;

typedef struct SeenList {
        Seen *items;
        size_t n;
        uint64_t weight; /* header blocks and padded data, in bytes */
        int fd;          /* the input being read, and the input itself */
        const uint8_t *input;
        size_t input_size;
} SeenList;

static void seen_list_done(SeenList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].name);
                free(l->items[i].path);
                free(l->items[i].data);
                free(l->items[i].target);
        }
        free(l->items);
        *l = (SeenList) {};
}

/* The name rules, written out again rather than calling vb_archive_name_check(). */
static bool name_is_safe(const char *name) {
        size_t len = strlen(name);

        if (len == 0 || len >= 4096 || name[0] == '/')
                return false;
        for (const char *p = name;;) {
                size_t n = strcspn(p, "/");
                if (n == 0 || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p += n;
                if (!*p)
                        return true;
                p++;
        }
}

/* NAME (checked by name_is_safe()) without its "." components. */
static char *name_to_path(const char *name) {
        char *path = malloc(strlen(name) + 1), *q = path;

        if (!path)
                return NULL;
        for (const char *p = name;;) {
                size_t n = strcspn(p, "/");
                if (!(n == 1 && p[0] == '.')) {
                        if (q > path)
                                *q++ = '/';
                        memcpy(q, p, n);
                        q += n;
                }
                p += n;
                if (!*p)
                        break;
                p++;
        }
        *q = '\0';
        return path;
}

/* The member's own header, found from where the reader is in the input (right after the header,
 * or after a file's padded data): its checksum holds, its type is the member's (so a hard link, a
 * device or a FIFO is never handed on as anything), and a file's data are the bytes after it. */
static void check_header(const SeenList *l, const VbArchiveMember *m) {
        off_t at = lseek(l->fd, 0, SEEK_CUR);
        size_t padded = m->type == VB_ARCHIVE_FILE ? (m->size + BLOCK - 1) / BLOCK * BLOCK : 0;
        const uint8_t *h;
        unsigned sum = 0;
        char flag, chksum[9] = {};

        if (at < 0 || (size_t) at > l->input_size || (size_t) at < BLOCK + padded || at % BLOCK != 0)
                abort();
        h = l->input + (size_t) at - padded - BLOCK;
        for (size_t i = 0; i < BLOCK; i++)
                sum += i >= 148 && i < 156 ? ' ' : h[i];
        memcpy(chksum, h + 148, 8);
        if (strtoul(chksum, NULL, 8) != sum)
                abort();
        flag = (char) h[156];
        switch (m->type) {
        case VB_ARCHIVE_FILE:
                if (flag != '0' && flag != '\0' && flag != '7')
                        abort();
                if (m->size && memcmp(m->data, h + BLOCK, m->size) != 0)
                        abort();
                break;
        case VB_ARCHIVE_DIRECTORY:
                if (flag != '5')
                        abort();
                break;
        case VB_ARCHIVE_SYMLINK:
                if (flag != '2')
                        abort();
                break;
        default:
                abort();
        }
}

static int collect(void *userdata, const VbArchiveMember *m) {
        SeenList *l = userdata;
        Seen *items, s = {};
        volatile unsigned char sum = 0;

        if (!m->name || !name_is_safe(m->name) || m->type < 0 || m->type >= _VB_ARCHIVE_TYPE_MAX || m->mode > 07777)
                abort();
        switch (m->type) {
        case VB_ARCHIVE_FILE:
                if (m->size > VB_ARCHIVE_FILE_MAX || (!m->data && m->size > 0))
                        abort();
                for (size_t i = 0; i < m->size; i++) /* every byte there (ASan) */
                        sum ^= (unsigned char) m->data[i];
                break;
        case VB_ARCHIVE_DIRECTORY:
                if (m->size != 0 || m->target)
                        abort();
                break;
        case VB_ARCHIVE_SYMLINK:
                if (m->size != 0 || !m->target)
                        abort();
                break;
        default:
                abort();
        }
        (void) sum;
        check_header(l, m);
        l->weight += BLOCK + (m->size + BLOCK - 1) / BLOCK * BLOCK;

        s.name = strdup(m->name);
        s.path = name_to_path(m->name);
        s.type = m->type;
        s.mode = m->mode;
        s.size = m->size;
        s.data = malloc(m->size ?: 1);
        s.target = m->target ? strdup(m->target) : NULL;
        items = realloc(l->items, (l->n + 1) * sizeof(Seen));
        if (!s.name || !s.path || !s.data || (m->target && !s.target) || !items) {
                free(s.name);
                free(s.path);
                free(s.data);
                free(s.target);
                if (items)
                        l->items = items;
                return -ENOMEM;
        }
        if (m->size)
                memcpy(s.data, m->data, m->size);
        l->items = items;
        l->items[l->n++] = s;
        return 0;
}

static bool seen_equal(const Seen *a, const Seen *b) {
        return streq(a->name, b->name) && a->type == b->type && a->mode == b->mode && a->size == b->size &&
               memcmp(a->data, b->data, a->size) == 0 && streq_ptr(a->target, b->target);
}

/* The one memfd (made once: a memfd per read cost a third of the time), holding SIZE bytes of
 * DATA, at offset 0. */
static int memfd_with(const uint8_t *data, size_t size) {
        static int fd = -EBADF;

        if (fd < 0)
                fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, 0) < 0)
                abort();
        for (size_t done = 0; done < size;) {
                ssize_t k = pwrite(fd, data + done, size - done, (off_t) done);
                if (k <= 0)
                        abort();
                done += (size_t) k;
        }
        if (lseek(fd, 0, SEEK_SET) != 0)
                abort();
        return fd;
}

/* Read SIZE bytes of DATA as an archive into L; returns the reader's result (error checked). */
static int read_input(const uint8_t *data, size_t size, SeenList *l) {
        _cleanup_free_ char *error = NULL;
        int fd = memfd_with(data, size), r;

        l->fd = fd;
        l->input = data;
        l->input_size = size;
        r = vb_archive_read(fd, collect, l, &error);

        if (r == -ENOMEM)
                return r;
        if (r == 0 && error)
                abort();
        if (r < 0 && (r != -EINVAL || !error || !startswith(error, "member \"")))
                abort();
        if (l->n > size / BLOCK || l->weight > size)
                abort();
        return r;
}

/* ---- the scratch directory ---- */

static char *scratch;

static void remove_below(int dirfd) {
        DIR *d;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* its own offset */

        if (fd < 0 || !(d = fdopendir(fd)))
                abort();
        for (struct dirent *de; (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (de->d_type == DT_DIR) {
                        int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                abort();
                        remove_below(sub);
                        close(sub);
                        if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
                                abort();
                } else if (unlinkat(dirfd, de->d_name, 0) < 0)
                        abort();
        }
        closedir(d);
}

static void scratch_cleanup(void) {
        int fd;

        if (!scratch)
                return;
        fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                remove_below(fd);
                close(fd);
        }
        (void) rmdir(scratch);
        free(scratch);
        scratch = NULL;
}

static int scratch_fd(void) {
        static int fd = -EBADF;

        if (fd >= 0)
                return fd;
        if (asprintf(&scratch, "%s/fuzz-archive-XXXXXX", getenv("TMPDIR") ?: "/tmp") < 0 || !mkdtemp(scratch))
                abort();
        atexit(scratch_cleanup);
        fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        return fd;
}

/* ---- what an extraction left ---- */

static const Seen *find_member(const SeenList *l, const char *path, VbArchiveType type, size_t size,
                               const char *target) {
        for (size_t i = 0; i < l->n; i++) {
                const Seen *s = &l->items[i];
                if (s->type == type && streq(s->path, path) && (type != VB_ARCHIVE_FILE || s->size == size) &&
                    (type != VB_ARCHIVE_SYMLINK || streq(s->target, target)))
                        return s;
        }
        return NULL;
}

static bool is_parent_of_member(const SeenList *l, const char *path) {
        size_t n = strlen(path);
        for (size_t i = 0; i < l->n; i++)
                if (strneq(l->items[i].path, path, n) && l->items[i].path[n] == '/')
                        return true;
        return false;
}

/* A link at PATH (below top) to TARGET, by its text: its ".." never climb above top. */
static bool target_stays_below(const char *path, const char *target) {
        long depth = 0;

        for (const char *p = path; *p; p++)
                depth += *p == '/';
        for (const char *p = target;;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (--depth < 0)
                                return false;
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        depth++;
                p += n;
                if (!*p)
                        return true;
                p++;
        }
}

static void check_tree(int top, int dirfd, const char *prefix, const SeenList *l) {
        DIR *d;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* its own offset */

        if (fd < 0 || !(d = fdopendir(fd)))
                abort();
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *path = NULL;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (asprintf(&path, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) < 0)
                        abort();
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        abort();
                if (S_ISREG(st.st_mode)) {
                        if (st.st_nlink != 1 || !find_member(l, path, VB_ARCHIVE_FILE, (size_t) st.st_size, NULL))
                                abort();
                } else if (S_ISDIR(st.st_mode)) {
                        int sub;
                        if (!find_member(l, path, VB_ARCHIVE_DIRECTORY, 0, NULL) && !is_parent_of_member(l, path))
                                abort();
                        sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                abort();
                        check_tree(top, sub, path, l);
                        close(sub);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t n = readlinkat(dirfd, de->d_name, target, sizeof(target) - 1);
                        struct open_how how = { .flags = O_PATH | O_CLOEXEC,
                                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
                        long r;

                        if (n < 0)
                                abort();
                        target[n] = '\0';
                        if (!find_member(l, path, VB_ARCHIVE_SYMLINK, 0, target) || !target_stays_below(path, target))
                                abort();
                        static bool no_openat2 = false; /* kernels before 5.6, valgrind 3.19 */

                        if (no_openat2)
                                continue;
                        r = syscall(SYS_openat2, top, path, &how, sizeof(how));
                        if (r >= 0)
                                close((int) r);
                        else if (errno == EXDEV)
                                abort(); /* the kernel would leave top through it */
                        else if (errno == ENOSYS)
                                no_openat2 = true;
                } else
                        abort(); /* a FIFO, a device node, a socket */
        }
        closedir(d);
}

static void check_extract(const uint8_t *data, size_t size, int read_result, const SeenList *l) {
        _cleanup_free_ char *error = NULL, *top_path = NULL;
        _cleanup_close_ int top = -EBADF;
        int fd, s = scratch_fd(), r, entries = 0;
        DIR *d;

        if (mkdirat(s, "top", 0755) < 0 || asprintf(&top_path, "%s/top", scratch) < 0)
                abort();
        fd = memfd_with(data, size);
        r = vb_archive_extract(fd, top_path, &error);
        if (r > 0 || (read_result < 0 && r >= 0) || (r == -EINVAL && !error))
                abort();

        /* Nothing beside top. */
        d = opendir(scratch);
        if (!d)
                abort();
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        if (!streq(de->d_name, "top"))
                                abort();
                        entries++;
                }
        closedir(d);
        if (entries != 1)
                abort();

        top = openat(s, "top", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0)
                abort();
        check_tree(top, top, "", l);
        remove_below(top);
        if (unlinkat(s, "top", AT_REMOVEDIR) < 0)
                abort();
}

/* ---- the target ---- */

static uint64_t hash(const uint8_t *data, size_t size) {
        uint64_t h = 14695981039346656037ULL; /* FNV-1a */
        for (size_t i = 0; i < size; i++)
                h = (h ^ data[i]) * 1099511628211ULL;
        return h;
}

static void check_cut(const uint8_t *data, size_t size, size_t cut, int full_result, const SeenList *full) {
        SeenList l = {};
        int r;

        if (cut >= size)
                return;
        r = read_input(data, cut, &l);
        if (r == -ENOMEM || full_result == -ENOMEM) {
                seen_list_done(&l);
                return;
        }
        if (l.n > full->n)
                abort();
        for (size_t i = 0; i < l.n; i++)
                if (!seen_equal(&l.items[i], &full->items[i]))
                        abort();
        /* Cut inside a block: only an end-of-archive block before the cut makes it a success. */
        if (r == 0 && cut % BLOCK != 0 && (full_result != 0 || l.n != full->n))
                abort();
        seen_list_done(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SeenList full = {};
        size_t cut;
        int r;

        if (size > INPUT_MAX)
                return 0;
        r = read_input(data, size, &full);
        if (size > 0) {
                cut = (size_t) (hash(data, size) % size);
                check_cut(data, size, size - 1, r, &full);
                check_cut(data, size, cut, r, &full);
                check_cut(data, size, cut / BLOCK * BLOCK, r, &full);
        }
        if (r != -ENOMEM && full.n > 0)
                check_extract(data, size, r, &full);
        seen_list_done(&full);
        return 0;
}
