/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cmdline.h"
#include "io-util.h"
#include "load.h"
#include "macro.h"
#include "strv.h"
#include "sysfs.h"
#include "vb-config.h"

/* ---- files ---- */

/* Read OPEN_PATH, named PATH in messages and in C->files. */
/* Read OPEN_PATH, named PATH in messages. IN_CONFIG_DIR: a default file or a drop-in, where a
 * symbolic link may lead to /dev/null (masked) or to a file anyone may read (a package's or
 * NixOS's), but not to a file kept from others (/etc/shadow): that is refused unread, so no line of
 * it ends up quoted in a message (and the journal). */
static int parse_file_as(VbConfig *c, const char *open_path, const char *path, bool must_exist, bool in_config_dir,
                         VbDiagnostics *diag) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct stat st, lst;
        bool is_link;
        size_t len = 0;
        int r;

        assert(c);
        assert(path);
        assert(diag);

        is_link = in_config_dir && lstat(open_path, &lst) >= 0 && S_ISLNK(lst.st_mode);

        /* O_NONBLOCK: a FIFO must not hang us; it is refused below. */
        fd = open(open_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ENOENT && !must_exist)
                        return 0;
                r = vb_diagnostics_add(diag, path, 0, "cannot open: %s", strerror(-r));
                return r < 0 ? r : -EINVAL;
        }
        if (fstat(fd, &st) < 0) {
                r = vb_diagnostics_add(diag, path, 0, "cannot stat: %s", strerror(errno));
                return r < 0 ? r : -EINVAL;
        }

        if (S_ISDIR(st.st_mode))
                r = vb_diagnostics_add(diag, path, 0, "is a directory, not a configuration file");
        else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                return strv_extend_printf(&c->files, NULL, "%s", path); /* /dev/null: masked, counts as empty */
        else if (!S_ISREG(st.st_mode))
                r = vb_diagnostics_add(diag, path, 0, "is not a regular file");
        else if (is_link && !(st.st_mode & S_IROTH))
                r = vb_diagnostics_add(diag, path, 0,
                                       "is a symbolic link to a file that not everyone may read (mode %04o); not "
                                       "read: a configuration file here must be a regular file, or a link to "
                                       "/dev/null or to a file anyone may read",
                                       (unsigned) (st.st_mode & 07777));
        else if (st.st_size > VB_CONFIG_FILE_SIZE_MAX)
                r = vb_diagnostics_add(diag, path, 0, "is too large (%jd bytes, the limit is %d)",
                                       (intmax_t) st.st_size, VB_CONFIG_FILE_SIZE_MAX);
        else {
                r = vb_read_full_fd(fd, VB_CONFIG_FILE_SIZE_MAX, 0, &text, &len);
                if (r == -ENOMEM)
                        return r;
                if (r == -EFBIG)
                        r = vb_diagnostics_add(diag, path, 0, "is too large (more than %d bytes)",
                                               VB_CONFIG_FILE_SIZE_MAX);
                else if (r < 0)
                        r = vb_diagnostics_add(diag, path, 0, "cannot read: %s", strerror(-r));
                else {
                        r = strv_extend_printf(&c->files, NULL, "%s", path);
                        if (r < 0)
                                return r;
                        return vb_config_parse_text(c, path, text, len, diag);
                }
        }
        return r < 0 ? r : -EINVAL;
}

int vb_config_parse_file(VbConfig *c, const char *path, bool must_exist, VbDiagnostics *diag) {
        return parse_file_as(c, path, path, must_exist, false, diag);
}

static int name_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool dropin_name_wanted(const char *name) {
        size_t n = strlen(name);

        return name[0] != '.' && n > 5 && streq(name + n - 5, ".conf");
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* Prefix PATH with ROOT (NULL: PATH itself). */
static char *rooted(const char *root, const char *path) {
        char *s;
        if (!root)
                return strdup(path);
        return asprintf(&s, "%s%s", root, path) < 0 ? NULL : s;
}

static int load_dropins(VbConfig *c, const char *root, const char *dir, VbDiagnostics *diag) {
        _cleanup_free_ char *open_dir = rooted(root, dir);
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r, ret = 0;

        if (!open_dir)
                return -ENOMEM;
        d = opendir(open_dir);
        if (!d) {
                r = negative_errno();
                if (r == -ENOENT)
                        return 0;
                if (r == -ENOTDIR)
                        r = vb_diagnostics_add(diag, dir, 0, "is not a directory");
                else
                        r = vb_diagnostics_add(diag, dir, 0, "cannot open directory: %s", strerror(-r));
                return r < 0 ? r : -EINVAL;
        }

        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0) {
                                r = vb_diagnostics_add(diag, dir, 0, "cannot read directory: %s", strerror(errno));
                                return r < 0 ? r : -EINVAL;
                        }
                        break;
                }
                if (!dropin_name_wanted(de->d_name))
                        continue;
                if (n >= VB_CONFIG_DROPINS_MAX) {
                        r = vb_diagnostics_add(diag, dir, 0, "has more than %d *.conf files", VB_CONFIG_DROPINS_MAX);
                        return r < 0 ? r : -EINVAL;
                }
                r = strv_extend_printf(&names, &n, "%s", de->d_name);
                if (r < 0)
                        return r;
        }

        if (n > 0)
                qsort(names, n, sizeof(char *), name_compare);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *open_path = NULL;

                if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
                        return -ENOMEM;
                open_path = rooted(root, path);
                if (!open_path)
                        return -ENOMEM;
                /* Listed a moment ago: if it is gone or is a dangling symlink, say so. */
                r = parse_file_as(c, open_path, path, true, true, diag);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret = -EINVAL;
        }
        return ret;
}

static int load_at(VbConfig *c, const char *root, const char *path, bool must_exist, const char *dropin_dir,
                   VbDiagnostics *diag) {
        int r, ret = 0;

        assert(c);
        assert(diag);

        if (path) {
                _cleanup_free_ char *open_path = rooted(root, path);
                if (!open_path)
                        return -ENOMEM;
                r = parse_file_as(c, open_path, path, must_exist, !must_exist, diag);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret = -EINVAL;
        }
        if (dropin_dir) {
                r = load_dropins(c, root, dropin_dir, diag);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret = -EINVAL;
        }
        return ret;
}

int vb_config_load(VbConfig *c, const char *path, bool must_exist, const char *dropin_dir, VbDiagnostics *diag) {
        return load_at(c, NULL, path, must_exist, dropin_dir, diag);
}

/* ---- the way both programs load it ---- */

int vb_config_load_all(VbContext *ctx, const char *path, VbConfig **ret, VbDiagnostics *diag) {
        return vb_config_load_all_at(ctx, NULL, path, ret, diag);
}

int vb_config_load_all_at(VbContext *ctx, const char *root, const char *path, VbConfig **ret, VbDiagnostics *diag) {
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        int r, k = 0;

        r = vb_config_new(&c);
        if (r < 0)
                return r;

        if (path)
                r = vb_config_load(c, path, true, NULL, diag);
        else
                r = load_at(c, root, VB_CONFIG_FILE, false, VB_CONFIG_DROPIN_DIR, diag);
        if (r < 0 && r != -EINVAL)
                return r;
        if (r < 0)
                k = r;

        if (ctx) {
                _cleanup_free_ char *cmdline = NULL;

                r = vb_procfs_read(ctx, "cmdline", &cmdline);
                if (r >= 0) {
                        r = vb_config_apply_cmdline(c, cmdline, diag);
                        if (r < 0 && r != -EINVAL)
                                return r;
                        if (r < 0)
                                k = r;
                }
        }
        if (k < 0 || diag->n > 0)
                return -EINVAL;

        *ret = TAKE_PTR(c);
        return 0;
}
