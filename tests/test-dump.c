/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-bind dump and --root: for every fake tree, a dump replayed (the archive and a directory
 * unpacked from it) gives the CLI's and the daemon's --dry-run output byte for byte; every file
 * the CLI opens is in the dump (inotify watches the tree while the verbs run); bad archives and
 * writing verbs are refused; the machine dumps under tests/dumps replay to their expected output.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive.h"
#include "machine.h"
#include "pci.h"
#include "runtime.h"
#include "strv.h"
#include "tree.h"
#include "vfio-bind.h"
#include "vfio-bindd.h"

#define DUMP_SIZE_MAX (1024 * 1024)

/* Small string lists and scratch directories of this test. */
static bool sv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static int sv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **p = realloc(*l, (n + 2) * sizeof(char *));
        if (!p)
                return -ENOMEM;
        *l = p;
        p[n] = strdup(s);
        p[n + 1] = NULL;
        return p[n] ? 0 : -ENOMEM;
}

static int sv_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *scratch_new(void) {
        const char *tmp = getenv("TMPDIR");
        char *d;
        ASSERT_TRUE(asprintf(&d, "%s/vb-dump-test-XXXXXX", tmp && *tmp ? tmp : "/tmp") > 0);
        ASSERT_TRUE(mkdtemp(d));
        return d;
}

static void scratch_free(char *d) {
        if (d)
                (void) tree_remove(d);
        free(d);
}

typedef struct Output {
        int code;
        char *text;
} Output;

static void output_done(Output *o) {
        free(o->text);
        *o = (Output) {};
}

/* Run PROG (vbc_main or vbd_main) with ARGS on PLATFORM in a child; its exit code, its stdout
 * and stderr (WITH_STDERR) in *OUT. TMPDIR is set to TMP for the child if not NULL. */
static int run(int (*prog)(int, char **, const VbPlatform *), const char *name, const VbPlatform *platform,
               const char *const *args, const char *tmp, bool with_stderr, Output *out) {
        _cleanup_free_ char *out_path = NULL, *outdir = NULL;
        char *argv[32];
        int argc = 0, st;
        pid_t pid;

        outdir = scratch_new();
        ASSERT_TRUE(asprintf(&out_path, "%s/out", outdir) > 0);
        argv[argc++] = (char *) name;
        for (; *args && argc < 31; args++)
                argv[argc++] = (char *) *args;
        argv[argc] = NULL;
        fflush(NULL);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                int r;

                if (!freopen(out_path, "w", stdout))
                        vb_coverage_exit(127);
                if (with_stderr ? !freopen(out_path, "a", stderr) : !freopen("/dev/null", "w", stderr))
                        vb_coverage_exit(127);
                /* The child ends with _exit() (vb_coverage_exit): what it holds of the parent's is freed here. */
                free(TAKE_PTR(out_path));
                free(TAKE_PTR(outdir));
                setvbuf(stdout, NULL, _IONBF, 0);
                setenv("NO_COLOR", "1", 1);
                unsetenv("JOURNAL_STREAM");
                if (tmp)
                        setenv("TMPDIR", tmp, 1);
                r = prog(argc, argv, platform);
                fflush(NULL);
                vb_coverage_exit(r);
        }
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        out->text = tree_read(outdir, "out");
        ASSERT_TRUE(out->text);
        scratch_free(TAKE_PTR(outdir));
        out->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return out->code;
}

static int cli(const VbPlatform *p, const char *const *args, Output *out) {
        return run(vbc_main, "vfio-bind", p, args, NULL, true, out);
}

/* The fake trees: every directory under tests/sysfs. */
static char **tree_cases(void) {
        _cleanup_free_ char *path = NULL;
        char **l = NULL;
        size_t n = 0;
        DIR *d;

        ASSERT_TRUE(asprintf(&path, "%s/sysfs", test_data_dir()) > 0);
        d = opendir(path);
        ASSERT_TRUE(d);
        for (struct dirent *de; (de = readdir(d));) {
                struct stat st;
                char *sub;
                if (de->d_name[0] == '.')
                        continue;
                ASSERT_TRUE(asprintf(&sub, "%s/%s/sys", path, de->d_name) > 0);
                if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
                        l = realloc(l, (n + 2) * sizeof(char *));
                        ASSERT_TRUE(l);
                        l[n++] = strdup(de->d_name);
                        l[n] = NULL;
                }
                free(sub);
        }
        closedir(d);
        ASSERT_TRUE(n >= 10);
        qsort(l, n, sizeof(char *), sv_compare);
        return l;
}

/* A configuration that selects devices of the tree: every endpoint but SR-IOV PFs (Device=), two
 * VFs of each PF; and a release mark on the first endpoint, so that run/ matters too. */
static void write_config(Machine *m, const char *rundir) {
        _cleanup_(vb_pci_list_done) VbPciList devices = {};
        _cleanup_free_ char *conf = strdup("[Bind]\n");
        bool marked = false;

        ASSERT_OK(vb_pci_enumerate(m->ctx, &devices));
        ASSERT_TRUE(mkdir(rundir, 0755) == 0 || errno == EEXIST);
        for (size_t i = 0; i < devices.n; i++) {
                const VbPciDevice *d = &devices.devices[i];
                char *s;
                if (vb_pci_device_is_bridge(d) || d->is_virtfn)
                        continue;
                if (d->has_sriov)
                        ASSERT_TRUE(asprintf(&s, "%sVirtualFunctions=%s 2\n", conf, VB_PCI_ADDRESS_STR(&d->address)) >
                                    0);
                else
                        ASSERT_TRUE(asprintf(&s, "%sDevice=%s\n", conf, VB_PCI_ADDRESS_STR(&d->address)) > 0);
                free(conf);
                conf = s;
                if (!marked && !d->has_sriov) {
                        ASSERT_OK(vb_runtime_set_released(rundir, &d->address, true));
                        marked = true;
                }
        }
        {
                _cleanup_free_ char *etc = NULL, *dropins = NULL;
                ASSERT_TRUE(asprintf(&etc, "%s/etc", m->dir) > 0 &&
                            asprintf(&dropins, "%s/etc/vfio-bind.conf.d", m->dir) > 0);
                ASSERT_TRUE(mkdir(etc, 0755) == 0 && mkdir(dropins, 0755) == 0);
        }
        ASSERT_OK(tree_write(m->dir, "etc/vfio-bind.conf.d/10-test.conf", "[Bind]\nGroup=take\n"));
        ASSERT_OK(tree_write(m->dir, "etc/vfio-bind.conf", conf));
}

static const char *const groups_args[] = { "groups", NULL }, *const status_args[] = { "status", NULL },
                         *const json_args[] = { "status", "--json", NULL }, *const check_args[] = { "check", NULL };
static const char *const *const verbs[] = { groups_args, status_args, json_args, check_args };
#define N_VERBS ELEMENTSOF(verbs)

/* The verbs' output on P, with --root=ROOT in front (NULL: none). */
static void run_verbs(const VbPlatform *p, const char *root, Output out[N_VERBS + 1]) {
        _cleanup_free_ char *opt = NULL;

        if (root)
                ASSERT_TRUE(asprintf(&opt, "--root=%s", root) > 0);
        for (size_t i = 0; i < N_VERBS; i++) {
                const char *args[8];
                size_t n = 0;
                if (opt && i % 2) /* after the verb, half the time */
                        args[n++] = verbs[i][0];
                if (opt)
                        args[n++] = opt;
                for (const char *const *v = verbs[i] + (opt && i % 2); *v; v++)
                        args[n++] = *v;
                args[n] = NULL;
                cli(p, args, &out[i]);
        }
        {
                const char *args[] = { "--dry-run", opt, NULL };
                run(vbd_main, "vfio-bindd", p, args, NULL, false, &out[N_VERBS]);
        }
}

static void assert_same(const char *what, Output a[N_VERBS + 1], Output b[N_VERBS + 1]) {
        for (size_t i = 0; i <= N_VERBS; i++) {
                const char *verb = i < N_VERBS ? verbs[i][0] : "vfio-bindd --dry-run";
                if (a[i].code != b[i].code || !streq(a[i].text, b[i].text))
                        TEST_FAIL("%s: %s differs from the machine: exit %d vs %d\n--- machine:\n%s--- replay:\n%s",
                                  what, verb, a[i].code, b[i].code, a[i].text, b[i].text);
        }
}

/* ---- inotify: what the CLI opens ---- */

typedef struct Watches {
        int fd;
        char **dirs; /* by watch descriptor */
        size_t n;
} Watches;

static void watch_tree(Watches *w, const char *top, const char *rel) {
        _cleanup_free_ char *path = NULL;
        DIR *d;
        int wd;

        ASSERT_TRUE(asprintf(&path, "%s%s%s", top, *rel ? "/" : "", rel) > 0);
        wd = inotify_add_watch(w->fd, path, IN_OPEN | IN_ONLYDIR | IN_DONT_FOLLOW);
        ASSERT_TRUE(wd >= 0);
        if ((size_t) wd >= w->n) {
                w->dirs = realloc(w->dirs, (size_t) (wd + 1) * sizeof(char *));
                ASSERT_TRUE(w->dirs);
                memset(w->dirs + w->n, 0, ((size_t) wd + 1 - w->n) * sizeof(char *));
                w->n = (size_t) wd + 1;
        }
        free(w->dirs[wd]);
        w->dirs[wd] = strdup(rel);
        d = opendir(path);
        ASSERT_TRUE(d);
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *sub = NULL;
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                ASSERT_TRUE(asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) > 0);
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
                        watch_tree(w, top, sub);
        }
        closedir(d);
}

static bool wanted(const char *rel) {
        static const char *const tops[] = { "sys", "proc", "etc", "run" };
        for (size_t i = 0; i < ELEMENTSOF(tops); i++) {
                size_t n = strlen(tops[i]);
                if (strneq(rel, tops[i], n) && (rel[n] == '/' || rel[n] == '\0'))
                        return true;
        }
        return false;
}

/* Paths below the top that were opened since the last call, added to *L. */
static void opened(Watches *w, char ***l) {
        char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n;

        while ((n = read(w->fd, buf, sizeof(buf))) > 0)
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *e = (const struct inotify_event *) p;
                        _cleanup_free_ char *path = NULL;
                        const char *dir;

                        ASSERT_FALSE(e->mask & IN_Q_OVERFLOW);
                        p += sizeof(*e) + e->len;
                        if (e->wd < 0 || (size_t) e->wd >= w->n || !w->dirs[e->wd])
                                continue;
                        dir = w->dirs[e->wd];
                        if (e->len > 0 && e->name[0])
                                ASSERT_TRUE(asprintf(&path, "%s%s%s", dir, *dir ? "/" : "", e->name) > 0);
                        else
                                path = strdup(dir);
                        ASSERT_TRUE(path);
                        if (wanted(path) && !sv_contains(*l, path))
                                ASSERT_OK(sv_extend(l, path));
                }
}

static int member_name(void *userdata, const VbArchiveMember *m) {
        return sv_extend(userdata, m->name);
}

static char **archive_names(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *error = NULL;
        char **l = NULL;

        ASSERT_TRUE(fd >= 0);
        if (vb_archive_read(fd, member_name, &l, &error) < 0)
                TEST_FAIL("%s: %s", path, strna(error));
        return l;
}

static bool have_tar(void) {
        return system("tar --version >/dev/null 2>&1") == 0;
}

TEST(every_tree_replays_byte_for_byte) {
        _cleanup_strv_free_ char **cases = tree_cases();
        bool tar = have_tar();

        if (!tar)
                fprintf(stderr, "tar is missing: the dumps are unpacked by vb_archive_extract() alone\n");
        for (char **c = cases; *c; c++) {
                _cleanup_free_ char *rundir = NULL, *dump = NULL, *unpacked = NULL, *cmd = NULL, *dump_arg = NULL;
                _cleanup_strv_free_ char **names = NULL, **seen = NULL;
                Output machine[N_VERBS + 1] = {}, replay[N_VERBS + 1] = {}, dir[N_VERBS + 1] = {}, d = {};
                Watches w = {};
                struct stat st;
                VbPlatform p;
                Machine m;

                machine_open(&m, *c, NULL);
                ASSERT_TRUE(asprintf(&rundir, "%s/run", m.dir) > 0);
                ASSERT_TRUE(mkdir(rundir, 0755) == 0);
                free(rundir);
                ASSERT_TRUE(asprintf(&rundir, "%s/run/vfio-bind", m.dir) > 0);
                write_config(&m, rundir);
                p = (VbPlatform) {
                        .sysfs_root = fake_kernel_sysfs_root(m.k),
                        .procfs_root = fake_kernel_procfs_root(m.k),
                        .ops = &fake_kernel_ops,
                        .ops_userdata = m.k,
                        .runtime_dir = rundir,
                        .config_root = m.dir,
                };

                /* The machine, with every open under the tree watched. */
                w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                ASSERT_TRUE(w.fd >= 0);
                watch_tree(&w, m.dir, "");
                opened(&w, &seen); /* the watching's own opens */
                strv_free(TAKE_PTR(seen));
                run_verbs(&p, NULL, machine);
                opened(&w, &seen);
                ASSERT_TRUE(strv_length(seen) > 10); /* the watch works */
                close(w.fd);
                for (size_t i = 0; i < w.n; i++)
                        free(w.dirs[i]);
                free(w.dirs);

                unpacked = scratch_new();
                ASSERT_TRUE(asprintf(&dump, "%s.tar", unpacked) > 0);
                ASSERT_EQ(cli(&p, (const char *const[]) { "dump", dump, NULL }, &d), 0);
                ASSERT_TRUE(stat(dump, &st) == 0);
                fprintf(stderr, "%s: dump of %jd bytes\n", *c, (intmax_t) st.st_size);
                ASSERT_TRUE(st.st_size > 0 && st.st_size < DUMP_SIZE_MAX);

                /* Every file and directory the verbs opened is in the dump. */
                names = archive_names(dump);
                for (char **s = seen; s && *s; s++)
                        if (!sv_contains(names, *s))
                                TEST_FAIL("%s: the verbs opened %s, which the dump does not hold", *c, *s);
                ASSERT_TRUE(sv_contains(names, "etc/vfio-bind.conf"));
                ASSERT_TRUE(sv_contains(names, "etc/vfio-bind.conf.d/10-test.conf"));
                ASSERT_TRUE(sv_contains(names, "vfio-bind-dump"));

                run_verbs(&p, dump, replay);
                assert_same(*c, machine, replay);

                if (tar) {
                        ASSERT_TRUE(asprintf(&cmd, "tar -tf '%s' >/dev/null && tar -xf '%s' -C '%s'", dump, dump,
                                             unpacked) > 0);
                        ASSERT_EQ(system(cmd), 0);
                } else {
                        _cleanup_close_ int fd = open(dump, O_RDONLY | O_CLOEXEC);
                        ASSERT_OK(vb_archive_extract(fd, unpacked, NULL));
                }
                run_verbs(&p, unpacked, dir);
                assert_same(*c, machine, dir);

                /* Nothing was written to the machine. */
                {
                        _cleanup_free_ char *log = fake_kernel_read_log(m.dir);
                        ASSERT_STREQ(log, "");
                }
                for (size_t i = 0; i <= N_VERBS; i++) {
                        output_done(&machine[i]);
                        output_done(&replay[i]);
                        output_done(&dir[i]);
                }
                output_done(&d);
                unlink(dump);
                scratch_free(TAKE_PTR(unpacked));
                machine_close(&m);
        }
}

/* ---- bad archives ---- */

static void raw_member(int fd, const char *name, char type, const char *link, const char *data) {
        char h[512] = {};
        unsigned sum = 0;
        size_t size = data ? strlen(data) : 0;

        memcpy(h, name, strlen(name));
        snprintf(h + 100, 8, "%07o", 0644);
        snprintf(h + 108, 8, "%07o", 0);
        snprintf(h + 116, 8, "%07o", 0);
        snprintf(h + 124, 12, "%011o", (unsigned) (size & 0777));
        snprintf(h + 136, 12, "%011o", 0);
        h[156] = type;
        if (link)
                memcpy(h + 157, link, strlen(link));
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
                sum += (unsigned char) h[i];
        snprintf(h + 148, 8, "%06o", sum);
        ASSERT_EQ(write(fd, h, 512), 512);
        if (size) {
                char block[512] = {};
                memcpy(block, data, size);
                ASSERT_EQ(write(fd, block, 512), 512);
        }
}

/* Only a whole ".." component climbs out: a name with dots in its components is a name (a
 * generated mutant, issue 28: a two-byte component ending in '.' was refused as ".."). */
TEST(archive_names_are_checked_by_whole_component) {
        static const char *const good[] = { "sys/a.", "sys/.a", "sys/..a", "sys/a..", "sys/./x", "x./y", "a/b/c" };
        static const struct {
                const char *name;
                const char *error;
        } bad[] = {
                { "..", "has a \"..\" component" },       { "sys/..", "has a \"..\" component" },
                { "sys/../x", "has a \"..\" component" }, { "sys//x", "has an empty path component" },
                { "/sys", "has an absolute name" },       { "", "has an empty name" },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                const char *why = vb_archive_name_check(good[i]);
                if (why)
                        TEST_FAIL("\"%s\" refused: %s", good[i], why);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_STREQ(vb_archive_name_check(bad[i].name), bad[i].error);
}

TEST(bad_archives_are_refused_by_name) {
        static const struct {
                const char *name;
                char type;
                const char *link;
                const char *error;
        } bad[] = {
                { "../evil", '0', NULL, "member \"../evil\": has a \"..\" component" },
                { "sys/../../evil", '0', NULL, "member \"sys/../../evil\": has a \"..\" component" },
                { "/etc/evil", '0', NULL, "member \"/etc/evil\": has an absolute name" },
                { "sys/fifo", '6', NULL, "member \"sys/fifo\": is a FIFO" },
                { "sys/hard", '1', "sys/x", "member \"sys/hard\": is a hard link" },
                { "sys/dev", '3', NULL, "member \"sys/dev\": is a device node" },
                { "sys/out", '2', "/etc", "member \"sys/out\": is a link to an absolute path" },
                { "sys/a/up", '2', "../../../x", "member \"sys/a/up\": is a link that leads out of the archive" },
        };
        _cleanup_free_ char *tmp = NULL, *top = NULL;

        tmp = scratch_new();
        top = scratch_new();
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *path = NULL, *arg = NULL;
                _cleanup_close_ int fd = -EBADF;
                Output o = {};
                DIR *d;
                int left = 0;

                ASSERT_TRUE(asprintf(&path, "%s/bad%zu.tar", top, i) > 0);
                fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                ASSERT_TRUE(fd >= 0);
                raw_member(fd, "sys", '5', NULL, NULL);
                raw_member(fd, "sys/x", '0', NULL, "1\n");
                raw_member(fd, bad[i].name, bad[i].type, bad[i].link, NULL);
                closep(&fd);
                ASSERT_TRUE(asprintf(&arg, "--root=%s", path) > 0);
                ASSERT_EQ(run(vbc_main, "vfio-bind", NULL, (const char *const[]) { arg, "status", NULL }, tmp, true,
                              &o),
                          1);
                ASSERT_CONTAINS(o.text, path);
                ASSERT_CONTAINS(o.text, bad[i].error);
                output_done(&o);
                /* The half-unpacked copy is gone, and nothing was made outside it. */
                d = opendir(tmp);
                ASSERT_TRUE(d);
                for (struct dirent *de; (de = readdir(d));)
                        left += de->d_name[0] != '.';
                closedir(d);
                ASSERT_EQ(left, 0);
                ASSERT_FALSE(tree_exists(top, "evil") || tree_exists(tmp, "../evil"));
        }
        scratch_free(TAKE_PTR(tmp));
        scratch_free(TAKE_PTR(top));
}

/* A dump given as a directory is held to the archive's rules: no link out of it, whether it is
 * the configuration (etc/vfio-bind.conf -> /etc/shadow) or the sysfs tree (sys -> /sys); and a
 * --root that is neither a directory nor a file says so (not "Invalid argument"). */
TEST(root_directory_links_out_are_refused) {
        static const struct {
                const char *link, *target, *error;
        } bad[] = {
                { "etc/vfio-bind.conf", "/etc/shadow", "\"etc/vfio-bind.conf\" is a link to an absolute path" },
                { "sys2", "/sys", "\"sys2\" is a link to an absolute path" },
                { "etc/up", "../../../../etc/shadow", "\"etc/up\" is a link that leads out of the archive" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *arg = NULL;
                Output ok = {}, o = {};
                Machine m;

                machine_open(&m, "desktop", NULL);
                ASSERT_TRUE(asprintf(&arg, "--root=%s", m.dir) > 0);
                /* The fake tree as it is replays (its links stay inside). */
                ASSERT_EQ(cli(NULL, (const char *const[]) { arg, "groups", NULL }, &ok), 0);
                {
                        _cleanup_free_ char *etc = NULL;
                        ASSERT_TRUE(asprintf(&etc, "%s/etc", m.dir) > 0);
                        ASSERT_OK(mkdir(etc, 0755) < 0 && errno != EEXIST ? -errno : 0);
                }
                ASSERT_OK(tree_symlink(m.dir, bad[i].target, bad[i].link));
                ASSERT_EQ(cli(NULL, (const char *const[]) { arg, "check", NULL }, &o), 1);
                ASSERT_CONTAINS(o.text, bad[i].error);
                ASSERT_NOT_CONTAINS(o.text, "root:");
                output_done(&ok);
                output_done(&o);
                machine_close(&m);
        }
        {
                Output o = {};
                ASSERT_EQ(cli(NULL, (const char *const[]) { "--root=/dev/zero", "status", NULL }, &o), 1);
                ASSERT_CONTAINS(o.text, "--root=/dev/zero: is neither a directory nor a regular file");
                ASSERT_NOT_CONTAINS(o.text, "Invalid argument");
                output_done(&o);
        }
}

TEST(writing_verbs_refuse_root) {
        Output a = {}, b = {}, c = {}, d = {};
        Machine m;

        machine_open(&m, "desktop", NULL);
        ASSERT_EQ(cli(NULL, (const char *const[]) { "--root", m.dir, "bind", "0000:01:00.0", NULL }, &a), 2);
        ASSERT_CONTAINS(a.text, "bind changes the machine");
        ASSERT_EQ(cli(NULL, (const char *const[]) { "release", "0000:01:00.0", "--root", m.dir, NULL }, &b), 2);
        ASSERT_CONTAINS(b.text, "release changes the machine");
        ASSERT_EQ(run(vbd_main, "vfio-bindd", NULL, (const char *const[]) { "--root", m.dir, NULL }, NULL, true, &c),
                  2);
        ASSERT_CONTAINS(c.text, "only --dry-run reads one");
        /* A directory that is no dump. */
        ASSERT_EQ(cli(NULL, (const char *const[]) { "--root", "/nonexistent", "groups", NULL }, &d), 1);
        ASSERT_CONTAINS(d.text, "--root=/nonexistent: No such file or directory");
        output_done(&a);
        output_done(&b);
        output_done(&c);
        output_done(&d);
        machine_close(&m);
}

/* ---- dumps of real machines ---- */

TEST(machine_dumps_replay_to_their_expected_output) {
        static const char *const machines[] = { "debian12-firecracker", "qemu-6.12-nixos-virtio-net",
                                                "debian12-policy-routing", "qemu-6.12-switch-groups" };
        const struct {
                const char *const *args;
                const char *suffix;
        } expect[] = {
                { (const char *const[]) { "groups", NULL }, "groups" },
                { (const char *const[]) { "status", NULL }, "status" },
                { (const char *const[]) { "status", "--json", NULL }, "status.json" },
                { (const char *const[]) { "check", NULL }, "check" },
        };

        for (size_t i = 0; i < ELEMENTSOF(machines); i++)
                for (size_t k = 0; k < ELEMENTSOF(expect); k++) {
                        _cleanup_free_ char *dir = NULL, *root = NULL, *name = NULL, *wanted_text = NULL;
                        const char *args[8];
                        size_t n = 0;
                        Output o = {};

                        ASSERT_TRUE(asprintf(&dir, "%s/dumps", test_data_dir()) > 0);
                        ASSERT_TRUE(asprintf(&root, "--root=%s/%s.tar", dir, machines[i]) > 0);
                        ASSERT_TRUE(asprintf(&name, "%s.%s", machines[i], expect[k].suffix) > 0);
                        args[n++] = root;
                        for (const char *const *a = expect[k].args; *a; a++)
                                args[n++] = *a;
                        args[n] = NULL;
                        wanted_text = tree_read(dir, name);
                        ASSERT_TRUE(wanted_text);
                        (void) run(vbc_main, "vfio-bind", NULL, args, NULL, true, &o);
                        ASSERT_TRUE(o.code == 0 || o.code == 1);
                        /* tree_read() drops trailing newlines */
                        while (*o.text && o.text[strlen(o.text) - 1] == '\n')
                                o.text[strlen(o.text) - 1] = '\0';
                        if (!streq(o.text, wanted_text))
                                TEST_FAIL("%s: got\n%s\n--- expected (tests/dumps/%s):\n%s", name, o.text, name,
                                          wanted_text);
                        output_done(&o);
                }
}

/* The interface addresses a dump holds (ifaddrs) are what the replay judges by, and a dump of that
 * replay keeps them: the edited debian12-policy-routing has eth0's 192.0.2.10 in no main-table
 * route and only a link-local IPv6 address in if_inet6. */
TEST(dump_keeps_the_interface_addresses) {
        _cleanup_free_ char *tmp = NULL, *src = NULL, *out = NULL, *arg = NULL, *redump = NULL;
        _cleanup_strv_free_ char **names = NULL;
        Output a = {}, b = {};

        tmp = scratch_new();
        ASSERT_TRUE(asprintf(&src, "--root=%s/dumps/debian12-policy-routing.tar", test_data_dir()) > 0);
        ASSERT_TRUE(asprintf(&out, "%s/again.tar", tmp) > 0);
        ASSERT_EQ(cli(NULL, (const char *const[]) { src, "check", NULL }, &a), 1);
        ASSERT_CONTAINS(a.text,
                        "0000:00:03.0: refused: the host uses it: network interface eth0 is up with 192.0.2.10/24");
        ASSERT_EQ(cli(NULL, (const char *const[]) { src, "dump", out, NULL }, &b), 0);
        names = archive_names(out);
        ASSERT_TRUE(sv_contains(names, "ifaddrs"));
        output_done(&b);
        ASSERT_TRUE(asprintf(&redump, "--root=%s", out) > 0);
        ASSERT_EQ(cli(NULL, (const char *const[]) { redump, "check", NULL }, &b), 1);
        ASSERT_CONTAINS(b.text, "network interface eth0 is up with 192.0.2.10/24");
        output_done(&a);
        output_done(&b);
        scratch_free(TAKE_PTR(tmp));
}

static int member_config_size(void *userdata, const VbArchiveMember *m) {
        size_t n = strlen(m->name);
        if (n < 7 || !streq(m->name + n - 7, "/config"))
                return 0;
        return strv_extend_printf(userdata, NULL, "%s %zu", m->name, m->size);
}

/* Of config space a dump keeps the whole only for the devices that explain a group of several
 * (its members, the other functions of their slots, every bridge above them) and the 64 bytes of
 * the header of the rest; the replay of such a dump explains the groups as the machine did. */
TEST(dump_keeps_config_space_only_where_groups_need_it) {
        _cleanup_free_ char *tmp = NULL, *src = NULL, *out = NULL, *redump = NULL, *error = NULL;
        _cleanup_strv_free_ char **sizes = NULL;
        _cleanup_close_ int fd = -EBADF;
        Output a = {}, b = {}, d = {};
        size_t n_why = 0;

        tmp = scratch_new();
        ASSERT_TRUE(asprintf(&src, "--root=%s/dumps/qemu-6.12-switch-groups.tar", test_data_dir()) > 0);
        ASSERT_TRUE(asprintf(&out, "%s/again.tar", tmp) > 0);
        ASSERT_EQ(cli(NULL, (const char *const[]) { src, "groups", NULL }, &a), 0);
        ASSERT_CONTAINS(a.text, "why together: 0000:09:01.0, 0000:09:02.0: behind the PCIe-to-PCI bridge 0000:08:00.0");
        ASSERT_EQ(cli(NULL, (const char *const[]) { src, "dump", out, NULL }, &d), 0);
        fd = open(out, O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        if (vb_archive_read(fd, member_config_size, &sizes, &error) < 0)
                TEST_FAIL("%s: %s", out, strna(error));
        /* a member of a group of several, and the bridges above it, whole */
        ASSERT_TRUE(sv_contains(sizes, "sys/devices/pci0000:00/0000:00:07.0/0000:08:00.0/0000:09:01.0/config 256"));
        ASSERT_TRUE(sv_contains(sizes, "sys/devices/pci0000:00/0000:00:07.0/0000:08:00.0/config 4096"));
        ASSERT_TRUE(sv_contains(sizes, "sys/devices/pci0000:00/0000:00:07.0/config 4096"));
        ASSERT_TRUE(
                sv_contains(sizes,
                            "sys/devices/pci0000:00/0000:00:06.0/0000:04:00.0/0000:05:00.0/0000:06:00.0/config 4096"));
        /* the management NIC, alone in its group: the header only */
        ASSERT_TRUE(sv_contains(sizes, "sys/devices/pci0000:00/0000:00:03.0/0000:02:00.0/config 64"));
        ASSERT_FALSE(sv_contains(sizes, "sys/devices/pci0000:00/0000:00:03.0/config 4096"));
        ASSERT_TRUE(asprintf(&redump, "--root=%s", out) > 0);
        ASSERT_EQ(cli(NULL, (const char *const[]) { redump, "groups", NULL }, &b), 0);
        /* every reason again (a dump of a replay has no hwdb names: only the reasons compare) */
        for (const char *p = a.text, *e; (p = strstr(p, "why together:")); p = e) {
                _cleanup_free_ char *line = NULL;
                e = strchrnul(p, '\n');
                line = strndup(p, (size_t) (e - p));
                ASSERT_CONTAINS(b.text, line);
                n_why++;
        }
        ASSERT_EQ(n_why, 6u);
        output_done(&a);
        output_done(&b);
        output_done(&d);
        scratch_free(TAKE_PTR(tmp));
}

/* The processes that hold a device are in a dump, and only they: each holder's descriptor (its
 * link's target kept as a file's text, an archive holds no link out of itself), comm, cgroup and
 * the lines of its maps that name a resource file; the replay names them as the machine did. */
TEST(dump_keeps_only_the_programs_holding_devices) {
        _cleanup_free_ char *tmp = NULL, *dump = NULL, *arg = NULL, *maps = NULL, *fd = NULL;
        _cleanup_strv_free_ char **names = NULL;
        Output machine = {}, replay = {}, d = {}, unpacked = {};
        VbPlatform p;
        Machine m;

        machine_open(&m, "desktop", NULL);
        ASSERT_OK(tree_write_new(m.dir, "etc/vfio-bind.conf", "[Bind]\nDevice=01:00\n"));
        ASSERT_OK(tree_write_new(m.dir, "sys/bus/pci/devices/0000:01:00.0/drm/card0/uevent",
                                 "MAJOR=226\nMINOR=0\nDEVNAME=dri/card0\n"));
        ASSERT_OK(tree_write_new(m.dir, "proc/812/comm", "Xorg"));
        ASSERT_OK(tree_write_new(m.dir, "proc/812/cgroup", "0::/system.slice/display-manager.service"));
        ASSERT_OK(tree_write_new(m.dir, "proc/812/stat", "812 (Xorg) S 1"));
        ASSERT_OK(tree_mkdirs(m.dir, "proc/812/fd"));
        ASSERT_OK(tree_mkdirs(m.dir, "proc/900/fd"));
        ASSERT_OK(tree_symlink(m.dir, "/dev/null", "proc/812/fd/0"));
        ASSERT_OK(tree_symlink(m.dir, "/dev/dri/card0", "proc/812/fd/5"));
        ASSERT_OK(tree_write_new(m.dir, "proc/900/comm", "bash"));
        ASSERT_OK(tree_write_new(m.dir, "proc/900/stat", "900 (bash) S 1"));
        ASSERT_OK(tree_write_new(m.dir, "proc/900/maps", "55d0-55e0 r--p 00000000 08:02 7 /usr/bin/bash\n"));
        ASSERT_OK(tree_symlink(m.dir, "/dev/null", "proc/900/fd/0"));
        ASSERT_OK(tree_write_new(m.dir, "proc/950/comm", "pcimem"));
        ASSERT_OK(tree_write_new(m.dir, "proc/950/stat", "950 (pcimem) S 1"));
        ASSERT_OK(tree_write_new(m.dir, "proc/950/maps",
                                 "55d0-55e0 r--p 00000000 08:02 7 /usr/bin/pcimem\n"
                                 "7f00-7f10 rw-s 00000000 00:15 123 /sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/"
                                 "resource0\n"));
        p = (VbPlatform) {
                .sysfs_root = fake_kernel_sysfs_root(m.k),
                .procfs_root = fake_kernel_procfs_root(m.k),
                .ops = &fake_kernel_ops,
                .ops_userdata = m.k,
                .config_root = m.dir,
        };
        /* check judges as at boot, when they have not started: a warning */
        ASSERT_EQ(cli(&p, (const char *const[]) { "check", NULL }, &machine), 0);
        ASSERT_CONTAINS(machine.text,
                        "warning: 0000:01:00.0 is held now: /dev/dri/card0 is open in PID 812 (Xorg, "
                        "display-manager.service); at boot vfio-bindd binds it");
        ASSERT_CONTAINS(machine.text, "warning: 0000:01:00.1 is held now: resource0 is mapped in PID 950 (pcimem)");
        /* status judges now */
        ASSERT_EQ(cli(&p, (const char *const[]) { "status", NULL }, &d), 1);
        ASSERT_CONTAINS(d.text,
                        "refused: the host uses it: /dev/dri/card0 is open in PID 812 (Xorg, display-manager.service)");
        output_done(&d);

        tmp = scratch_new();
        ASSERT_TRUE(asprintf(&dump, "%s/machine.tar", tmp) > 0);
        ASSERT_EQ(cli(&p, (const char *const[]) { "dump", dump, NULL }, &d), 0);
        names = archive_names(dump);
        ASSERT_TRUE(sv_contains(names, "proc/812/fd/5"));
        ASSERT_TRUE(sv_contains(names, "proc/812/comm"));
        ASSERT_TRUE(sv_contains(names, "proc/812/cgroup"));
        ASSERT_TRUE(sv_contains(names, "proc/950/maps"));
        ASSERT_FALSE(sv_contains(names, "proc/812/fd/0"));
        ASSERT_FALSE(sv_contains(names, "proc/900/maps"));
        ASSERT_FALSE(sv_contains(names, "proc/900/comm"));

        ASSERT_TRUE(asprintf(&arg, "--root=%s", dump) > 0);
        ASSERT_EQ(cli(NULL, (const char *const[]) { arg, "check", NULL }, &replay), 0);
        ASSERT_STREQ(replay.text, machine.text);
        {
                _cleanup_close_ int afd = open(dump, O_RDONLY | O_CLOEXEC);
                _cleanup_free_ char *dir = NULL;

                ASSERT_TRUE(asprintf(&dir, "%s/unpacked", tmp) > 0);
                ASSERT_TRUE(mkdir(dir, 0755) == 0);
                ASSERT_OK(vb_archive_extract(afd, dir, NULL));
                maps = tree_read(dir, "proc/950/maps");
                fd = tree_read(dir, "proc/812/fd/5");
                ASSERT_STREQ(maps,
                             "7f00-7f10 rw-s 00000000 00:15 123 /sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/"
                             "resource0");
                ASSERT_STREQ(fd, "/dev/dri/card0");
                free(arg);
                ASSERT_TRUE(asprintf(&arg, "--root=%s", dir) > 0);
                ASSERT_EQ(cli(NULL, (const char *const[]) { arg, "check", NULL }, &unpacked), 0);
                ASSERT_STREQ(unpacked.text, machine.text);
        }
        output_done(&machine);
        output_done(&replay);
        output_done(&unpacked);
        output_done(&d);
        scratch_free(TAKE_PTR(tmp));
        machine_close(&m);
}

TESTS_MAIN()
