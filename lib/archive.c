/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "alloc-util.h"
#include "archive.h"
#include "io-util.h"
#include "macro.h"

#define BLOCK 512

/* The ustar header (POSIX.1-1988), 512 bytes. */
typedef struct Header {
        char name[100];
        char mode[8];
        char uid[8];
        char gid[8];
        char size[12];
        char mtime[12];
        char chksum[8];
        char typeflag;
        char linkname[100];
        char magic[6];
        char version[2];
        char uname[32];
        char gname[32];
        char devmajor[8];
        char devminor[8];
        char prefix[155];
        char pad[12];
} Header;
_Static_assert(sizeof(Header) == BLOCK, "a ustar header is one block");

typedef struct Member {
        char *name;
        VbArchiveType type;
        unsigned mode;
        char *data;
        size_t size;
        char *target;
        int priority;
        size_t index; /* order of adding, for ties */
} Member;

struct VbArchive {
        Member *members;
        size_t n, allocated;
};

int vb_archive_new(VbArchive **ret) {
        VbArchive *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        *ret = a;
        return 0;
}

VbArchive *vb_archive_free(VbArchive *a) {
        if (!a)
                return NULL;
        for (size_t i = 0; i < a->n; i++) {
                free(a->members[i].name);
                free(a->members[i].data);
                free(a->members[i].target);
        }
        free(a->members);
        free(a);
        return NULL;
}

const char *vb_archive_name_check(const char *name) {
        const char *p = name;

        if (!name || !*name)
                return "has an empty name";
        if (name[0] == '/')
                return "has an absolute name";
        if (strlen(name) >= 4096)
                return "has a name longer than 4095 bytes";
        while (*p) {
                size_t n = strcspn(p, "/");
                if (n == 0)
                        return "has an empty path component";
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return "has a \"..\" component";
                p += n;
                if (*p == '/')
                        p++;
        }
        return NULL;
}

const char *vb_archive_target_check(const char *name, const char *target) {
        long depth = 0;
        bool down = false;

        if (!target || !*target)
                return "is a link with an empty target";
        if (target[0] == '/')
                return "is a link to an absolute path (it would lead out of the archive)";
        if (strlen(target) >= 4096)
                return "is a link with a target longer than 4095 bytes";
        /* The directory the link is in: its depth below the top. */
        for (const char *p = name; *p; p++)
                if (*p == '/')
                        depth++;
        /* "../../x/y": climbing first, then only down, never above the top. */
        for (const char *p = target; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (down)
                                return "is a link that climbs (\"..\") after going down";
                        if (--depth < 0)
                                return "is a link that leads out of the archive";
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        down = true;
                p += n;
                if (*p == '/')
                        p++;
        }
        return NULL;
}

int vb_archive_add(VbArchive *a, const VbArchiveMember *m, int priority) {
        Member x = { .type = m->type, .mode = m->mode & 07777, .priority = priority, .index = a->n };

        if (m->type < 0 || m->type >= _VB_ARCHIVE_TYPE_MAX || vb_archive_name_check(m->name))
                return -EINVAL;
        if (!VB_GREEDY_REALLOC(a->members, a->allocated, a->n + 1))
                return -ENOMEM;
        x.name = strdup(m->name);
        if (m->type == VB_ARCHIVE_FILE) {
                x.data = malloc(m->size ?: 1);
                if (x.data && m->size)
                        memcpy(x.data, m->data, m->size);
                x.size = m->size;
        } else if (m->type == VB_ARCHIVE_SYMLINK)
                x.target = strdup(m->target ?: "");
        if (!x.name || (m->type == VB_ARCHIVE_FILE && !x.data) || (m->type == VB_ARCHIVE_SYMLINK && !x.target)) {
                free(x.name);
                free(x.data);
                free(x.target);
                return -ENOMEM;
        }
        a->members[a->n++] = x;
        return 0;
}

bool vb_archive_contains(const VbArchive *a, const char *name) {
        for (size_t i = 0; i < a->n; i++)
                if (streq(a->members[i].name, name))
                        return true;
        return false;
}

/* Names in the order of a directory walk: "/" sorts before every other byte, so "a/b" comes
 * right after "a" and before "a-b". */
static int name_compare(const char *x, const char *y) {
        for (;; x++, y++) {
                unsigned char a = *x == '/' ? 1 : (unsigned char) *x, b = *y == '/' ? 1 : (unsigned char) *y;
                if (a != b || !a)
                        return a < b ? -1 : a > b;
        }
}

static int member_compare(const void *p, const void *q) {
        const Member *x = p, *y = q;
        int c = name_compare(x->name, y->name);
        if (c)
                return c;
        if (x->priority != y->priority)
                return x->priority > y->priority ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

static int write_all(int fd, const void *buf, size_t n, uint64_t *total) {
        const char *p = buf;
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                n -= (size_t) k;
                *total += (uint64_t) k;
        }
        return 0;
}

static int write_padded(int fd, const void *data, size_t size, uint64_t *total) {
        static const char zeros[BLOCK];
        int r = write_all(fd, data, size, total);
        if (r >= 0 && size % BLOCK)
                r = write_all(fd, zeros, BLOCK - size % BLOCK, total);
        return r;
}

static void octal(char *field, size_t width, uint64_t v) {
        char buf[32];

        /* WIDTH - 1 digits and a NUL, as GNU tar writes them; the callers keep V within WIDTH - 1
         * digits (larger sizes go in a pax header), so the copy keeps the lowest digits only if
         * that ever failed. */
        snprintf(buf, sizeof(buf), "%0*" PRIo64, (int) width - 1, v);
        memcpy(field, buf + strlen(buf) - (width - 1), width);
}

static void header_finish(Header *h) {
        unsigned sum = 0;
        memcpy(h->magic, "ustar", 6);
        memcpy(h->version, "00", 2);
        memset(h->chksum, ' ', sizeof(h->chksum));
        for (size_t i = 0; i < BLOCK; i++)
                sum += ((unsigned char *) h)[i];
        snprintf(h->chksum, sizeof(h->chksum), "%06o", sum);
        h->chksum[7] = ' ';
}

/* NAME into the name and prefix fields, if it fits them. */
static bool split_name(Header *h, const char *name) {
        size_t n = strlen(name);
        if (n <= sizeof(h->name)) {
                memcpy(h->name, name, n);
                return true;
        }
        for (size_t p = n - 1; p > 0; p--)
                if (name[p] == '/' && p <= sizeof(h->prefix) && n - p - 1 <= sizeof(h->name) && n - p - 1 > 0) {
                        memcpy(h->prefix, name, p);
                        memcpy(h->name, name + p + 1, n - p - 1);
                        return true;
                }
        return false;
}

/* One pax record "LEN KEY=VALUE\n", LEN counting itself. */
static int pax_record(char **buf, size_t *n, const char *key, const char *value) {
        size_t body = 1 + strlen(key) + 1 + strlen(value) + 1, len = body, digits;
        char *p;
        for (;;) {
                digits = (size_t) snprintf(NULL, 0, "%zu", len);
                if (body + digits == len)
                        break;
                len = body + digits;
        }
        p = realloc(*buf, *n + len + 1);
        if (!p)
                return -ENOMEM;
        *buf = p;
        snprintf(p + *n, len + 1, "%zu %s=%s\n", len, key, value);
        *n += len;
        return 0;
}

static int write_member(int fd, const Member *m, int64_t mtime, uint64_t *total) {
        Header h = {};
        bool long_name, long_target;
        int r;

        long_name = !split_name(&h, m->name);
        long_target = m->type == VB_ARCHIVE_SYMLINK && strlen(m->target) > sizeof(h.linkname);
        if (long_name || long_target) {
                _cleanup_free_ char *pax = NULL;
                size_t n = 0;
                Header x = {};

                if ((long_name && pax_record(&pax, &n, "path", m->name) < 0) ||
                    (long_target && pax_record(&pax, &n, "linkpath", m->target) < 0))
                        return -ENOMEM;
                snprintf(x.name, sizeof(x.name), "PaxHeaders/%.80s",
                         m->name + strlen(m->name) - (strlen(m->name) > 80 ? 80 : strlen(m->name)));
                octal(x.mode, sizeof(x.mode), 0644);
                octal(x.uid, sizeof(x.uid), 0);
                octal(x.gid, sizeof(x.gid), 0);
                octal(x.size, sizeof(x.size), n);
                octal(x.mtime, sizeof(x.mtime), (uint64_t) mtime);
                x.typeflag = 'x';
                header_finish(&x);
                r = write_all(fd, &x, sizeof(x), total);
                if (r >= 0)
                        r = write_padded(fd, pax, n, total);
                if (r < 0)
                        return r;
                if (long_name) {
                        memset(h.name, 0, sizeof(h.name));
                        memset(h.prefix, 0, sizeof(h.prefix));
                        memcpy(h.name, m->name, sizeof(h.name)); /* truncated: the pax path wins */
                }
        }
        octal(h.mode, sizeof(h.mode), m->mode);
        octal(h.uid, sizeof(h.uid), 0);
        octal(h.gid, sizeof(h.gid), 0);
        octal(h.size, sizeof(h.size), m->type == VB_ARCHIVE_FILE ? m->size : 0);
        octal(h.mtime, sizeof(h.mtime), (uint64_t) mtime);
        h.typeflag = m->type == VB_ARCHIVE_FILE ? '0' : m->type == VB_ARCHIVE_DIRECTORY ? '5' : '2';
        if (m->type == VB_ARCHIVE_SYMLINK)
                memcpy(h.linkname, m->target, long_target ? sizeof(h.linkname) : strlen(m->target));
        memcpy(h.uname, "root", 4);
        memcpy(h.gname, "root", 4);
        header_finish(&h);
        r = write_all(fd, &h, sizeof(h), total);
        if (r >= 0 && m->type == VB_ARCHIVE_FILE)
                r = write_padded(fd, m->data, m->size, total);
        return r;
}

/* Every directory that holds a member, as a member of its own (the lowest priority). */
static int add_parents(VbArchive *a) {
        size_t n = a->n;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = strdup(a->members[i].name);
                if (!name)
                        return -ENOMEM;
                for (char *s = strrchr(name, '/'); s; s = strrchr(name, '/')) {
                        int r;
                        *s = '\0';
                        r = vb_archive_add(a,
                                           &(VbArchiveMember) {
                                                   .name = name, .type = VB_ARCHIVE_DIRECTORY, .mode = 0755 },
                                           INT32_MIN);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int vb_archive_write(VbArchive *a, int fd, int64_t mtime, uint64_t *ret_size) {
        static const char zeros[2 * BLOCK];
        uint64_t total = 0;
        int r;

        r = add_parents(a);
        if (r < 0)
                return r;
        if (a->n > 0)
                qsort(a->members, a->n, sizeof(Member), member_compare);
        for (size_t i = 0; i < a->n; i++) {
                if (i > 0 && streq(a->members[i].name, a->members[i - 1].name))
                        continue; /* the one that sorted first wins */
                r = write_member(fd, &a->members[i], mtime, &total);
                if (r < 0)
                        return r;
        }
        r = write_all(fd, zeros, sizeof(zeros), &total);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = total;
        return 0;
}

/* ---- reading ---- */

/* N bytes into BUF: 1, 0 when the file ends before them, -EPIPE when it ends among them, or -errno. */
static int read_full(int fd, void *buf, size_t n) {
        ssize_t k = vb_loop_read(fd, buf, n);

        if (k < 0)
                return (int) k;
        return (size_t) k == n ? 1 : k == 0 ? 0 : -EPIPE;
}

static bool parse_octal(const char *field, size_t width, uint64_t *ret) {
        uint64_t v = 0;
        size_t i = 0;
        bool any = false;

        while (i < width && field[i] == ' ')
                i++;
        for (; i < width && field[i] >= '0' && field[i] <= '7'; i++) {
                if (v > (UINT64_MAX >> 3))
                        return false;
                v = v * 8 + (uint64_t) (field[i] - '0');
                any = true;
        }
        for (; i < width; i++)
                if (field[i] != ' ' && field[i] != '\0')
                        return false;
        *ret = v;
        return any;
}

static int set_error(char **ret_error, int r, const char *name, const char *why) {
        if (ret_error) {
                free(*ret_error);
                *ret_error = NULL;
                if (asprintf(ret_error, "member \"%s\": %s", strempty(name), why) < 0)
                        *ret_error = NULL;
        }
        return r;
}

/* The data of a member, SIZE bytes, then its padding. */
static int read_data(int fd, uint64_t size, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t padded = (size_t) ((size + BLOCK - 1) / BLOCK * BLOCK);
        int r;

        buf = malloc(padded + 1);
        if (!buf)
                return -ENOMEM;
        r = read_full(fd, buf, padded);
        if (r < 0)
                return r;
        if (r == 0 && padded > 0)
                return -EPIPE;
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

/* A pax record's value for KEY, or NULL. */
static char *pax_value(const char *text, size_t n, const char *key) {
        const char *p = text, *end = text + n;
        while (p < end) {
                char *sp;
                unsigned long len = strtoul(p, &sp, 10);
                const char *rec = p;
                if (sp == p || *sp != ' ' || len == 0 || len > (size_t) (end - p))
                        return NULL;
                sp++;
                if (strneq(sp, key, strlen(key)) && sp[strlen(key)] == '=') {
                        const char *v = sp + strlen(key) + 1;
                        const char *ve = rec + len - 1; /* the "\n" */
                        return ve >= v ? strndup(v, (size_t) (ve - v)) : NULL;
                }
                p += len;
        }
        return NULL;
}

static bool is_zero_block(const void *p) {
        static const char zeros[BLOCK];
        return memcmp(p, zeros, BLOCK) == 0;
}

static char *field_string(const char *f, size_t width) {
        return strndup(f, strnlen(f, width));
}

int vb_archive_read(int fd, VbArchiveReadFn cb, void *userdata, char **ret_error) {
        _cleanup_free_ char *long_name = NULL, *long_target = NULL;
        size_t members = 0;
        int r;

        for (;;) {
                _cleanup_free_ char *name = NULL, *target = NULL, *data = NULL;
                uint64_t size, mode, sum;
                unsigned computed = 0;
                bool gnu;
                Header h;
                const char *why;
                VbArchiveType type;

                r = read_full(fd, &h, sizeof(h));
                if (r < 0)
                        return set_error(ret_error, r == -EPIPE ? -EINVAL : r, NULL,
                                         r == -EPIPE ? "the archive ends inside a header" : strerror(-r));
                if (r == 0)
                        break; /* no end-of-archive blocks: accept it, as tar does */
                if (is_zero_block(&h))
                        break; /* the end (two such blocks; the second is not read) */
                if (!parse_octal(h.chksum, sizeof(h.chksum), &sum))
                        return set_error(ret_error, -EINVAL, NULL, "not a tar header (no checksum)");
                memset(h.chksum, ' ', sizeof(h.chksum));
                for (size_t i = 0; i < BLOCK; i++)
                        computed += ((unsigned char *) &h)[i];
                if (computed != sum)
                        return set_error(ret_error, -EINVAL, NULL, "not a tar header (wrong checksum)");
                gnu = !memcmp(h.magic, "ustar ", 6);
                if (!gnu && memcmp(h.magic, "ustar", 6))
                        return set_error(ret_error, -EINVAL, NULL, "not a ustar header");
                if (!parse_octal(h.size, sizeof(h.size), &size))
                        size = 0;
                if (!parse_octal(h.mode, sizeof(h.mode), &mode))
                        mode = 0644;

                if (long_name)
                        name = TAKE_PTR(long_name);
                else if (!gnu && h.prefix[0]) {
                        _cleanup_free_ char *prefix = field_string(h.prefix, sizeof(h.prefix)),
                                            *base = field_string(h.name, sizeof(h.name));
                        if (!prefix || !base || asprintf(&name, "%s/%s", prefix, base) < 0)
                                return -ENOMEM;
                } else
                        name = field_string(h.name, sizeof(h.name));
                if (!name)
                        return -ENOMEM;

                if (h.typeflag == 'x' || h.typeflag == 'g' || h.typeflag == 'L' || h.typeflag == 'K') {
                        if (size > 1024 * 1024)
                                return set_error(ret_error, -EINVAL, name, "an extended header larger than 1 MiB");
                        r = read_data(fd, size, &data);
                        if (r < 0)
                                return set_error(ret_error, r == -EPIPE ? -EINVAL : r, name,
                                                 "the archive ends inside it");
                        if (h.typeflag == 'x') {
                                free(long_name);
                                long_name = pax_value(data, size, "path");
                                free(long_target);
                                long_target = pax_value(data, size, "linkpath");
                        } else if (h.typeflag == 'L') {
                                free(long_name);
                                long_name = strndup(data, size);
                        } else if (h.typeflag == 'K') {
                                free(long_target);
                                long_target = strndup(data, size);
                        }
                        continue; /* a global header ('g') changes nothing we keep */
                }

                /* "./a/b/" as tar writes a directory of "tar cf x ." */
                while (strneq(name, "./", 2))
                        memmove(name, name + 2, strlen(name + 2) + 1);
                for (size_t l = strlen(name); l > 1 && name[l - 1] == '/'; l--)
                        name[l - 1] = '\0';
                if (streq(name, ".") || streq(name, "./")) {
                        free(long_target);
                        long_target = NULL;
                        if (h.typeflag == '5')
                                continue; /* the top itself */
                }
                switch (h.typeflag) {
                case '0':
                case '\0':
                case '7':
                        type = VB_ARCHIVE_FILE;
                        break;
                case '5':
                        type = VB_ARCHIVE_DIRECTORY;
                        break;
                case '2':
                        type = VB_ARCHIVE_SYMLINK;
                        break;
                case '1':
                        return set_error(ret_error, -EINVAL, name,
                                         "is a hard link (only files, directories and symbolic links are allowed)");
                case '3':
                case '4':
                        return set_error(ret_error, -EINVAL, name,
                                         "is a device node (only files, directories and symbolic links are allowed)");
                case '6':
                        return set_error(ret_error, -EINVAL, name,
                                         "is a FIFO (only files, directories and symbolic links are allowed)");
                default:
                        return set_error(
                                ret_error, -EINVAL, name,
                                "has an unknown member type (only files, directories and symbolic links are allowed)");
                }
                why = vb_archive_name_check(name);
                if (why)
                        return set_error(ret_error, -EINVAL, name, why);
                if (++members > VB_ARCHIVE_MEMBERS_MAX)
                        return set_error(ret_error, -EINVAL, name, "one member too many (the limit is 200000)");
                if (type == VB_ARCHIVE_SYMLINK) {
                        target = long_target ? TAKE_PTR(long_target) : field_string(h.linkname, sizeof(h.linkname));
                        if (!target)
                                return -ENOMEM;
                }
                free(long_target);
                long_target = NULL;
                if (type == VB_ARCHIVE_FILE) {
                        if (size > VB_ARCHIVE_FILE_MAX)
                                return set_error(ret_error, -EINVAL, name, "is larger than 16 MiB");
                        r = read_data(fd, size, &data);
                        if (r < 0)
                                return set_error(ret_error, r == -EPIPE ? -EINVAL : r, name,
                                                 r == -EPIPE ? "the archive ends inside it" : strerror(-r));
                } else
                        size = 0;
                r = cb(userdata, &(VbArchiveMember) { .name = name,
                                                      .type = type,
                                                      .mode = (unsigned) (mode & 07777),
                                                      .data = data,
                                                      .size = (size_t) size,
                                                      .target = target });
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- unpacking ---- */

typedef struct Extract {
        int dirfd;
        char **error;
} Extract;

/* The directory that will hold NAME's last component: each one opened without following links,
 * made when missing. */
static int open_parent(int top, const char *name, const char **ret_base) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *copy = strdup(name);
        char *p, *slash;

        if (!copy)
                return -ENOMEM;
        fd = fcntl(top, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();
        for (p = copy; (slash = strchr(p, '/')); p = slash + 1) {
                int next;
                *slash = '\0';
                if (streq(p, "."))
                        continue;
                if (mkdirat(fd, p, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return negative_errno();
                closep(&fd);
                fd = next;
        }
        *ret_base = name + (p - copy);
        return TAKE_FD(fd);
}

static int extract_one(void *userdata, const VbArchiveMember *m) {
        Extract *x = userdata;
        _cleanup_close_ int parent = -EBADF, fd = -EBADF;
        const char *base, *why;
        int r;

        if (m->type == VB_ARCHIVE_SYMLINK) {
                why = vb_archive_target_check(m->name, m->target);
                if (why)
                        return set_error(x->error, -EINVAL, m->name, why);
        }
        parent = open_parent(x->dirfd, m->name, &base);
        if (parent < 0)
                return set_error(x->error, parent, m->name, strerror(-parent));
        switch (m->type) {
        case VB_ARCHIVE_DIRECTORY:
                if (mkdirat(parent, base, 0755) < 0 && errno != EEXIST)
                        return set_error(x->error, negative_errno(), m->name, strerror(errno));
                return 0;
        case VB_ARCHIVE_SYMLINK:
                (void) unlinkat(parent, base, 0); /* a later member replaces an earlier one */
                if (symlinkat(m->target, parent, base) < 0)
                        return set_error(x->error, negative_errno(), m->name, strerror(errno));
                return 0;
        case VB_ARCHIVE_FILE:
                (void) unlinkat(parent, base, 0);
                fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return set_error(x->error, negative_errno(), m->name, strerror(errno));
                for (size_t done = 0; done < m->size;) {
                        ssize_t k = write(fd, m->data + done, m->size - done);
                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                return set_error(x->error, negative_errno(), m->name, strerror(errno));
                        }
                        done += (size_t) k;
                }
                /* The permission bits as on the machine (a write-only attribute stays so). */
                r = fchmod(fd, m->mode & 0777);
                if (r < 0)
                        return set_error(x->error, negative_errno(), m->name, strerror(errno));
                return 0;
        default:
                return -EINVAL;
        }
}

int vb_archive_extract(int fd, const char *dir, char **ret_error) {
        _cleanup_close_ int dirfd = -EBADF;

        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return negative_errno();
        return vb_archive_read(fd, extract_one, &(Extract) { .dirfd = dirfd, .error = ret_error }, ret_error);
}
