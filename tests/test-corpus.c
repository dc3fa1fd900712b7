/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bad configuration corpus (tests/configs/bad/, see tests/configs/README) against the built
 * programs, not just the parser:
 *
 *   - `vfio-bindd --validate` exits 1 and prints exactly the expected FILE:LINE: diagnostics;
 *   - the daemon started on the same configuration (tests/vfio-bindd-test: vfio-bindd with only
 *     the kernel replaced, on a copy of the desktop tree) exits 1, says "configuration invalid"
 *     in STATUS=, and the fake kernel saw no call at all: no sysfs write, no module load.
 *
 * NAME.conf cases are passed with --config=. NAME.d cases are the default files: each run gets
 * a private mount namespace with a tmpfs on /etc holding /etc/vfio-bind.conf and
 * /etc/vfio-bind.conf.d as links to the case (skipped with a message where namespaces are not
 * allowed). Cases that cannot live in git are made here: a 100 KB line, a file nobody may read,
 * a symlink loop, a FIFO and a character device in place of the file.
 *
 * $VB_BINDD and $VB_BINDD_TEST name the programs (meson sets them).
 */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "fake-kernel.h"
#include "macro.h"
#include "tests.h"
#include "tree.h"

#define ETC_CONF "/etc/vfio-bind.conf"
#define ETC_DROPINS "/etc/vfio-bind.conf.d"

typedef struct Expect {
        char *file; /* NULL: the case's own file */
        unsigned line;
        char *text; /* NULL: not checked (holds %FILE% or %DIR%) */
} Expect;

typedef struct Case {
        char *name;
        char *config;  /* --config= path, or NULL for a NAME.d case */
        char *main;    /* NAME.d: main.conf (may not exist) */
        char *dropins; /* NAME.d: conf.d */
        Expect *expects;
        size_t n_expects;
        bool as_nobody;  /* run --validate as an unprivileged user (unreadable file) */
        char *bindd;     /* as_nobody: a copy of vfio-bindd that user can reach, or NULL */
        bool stdout_too; /* stdout goes where stderr goes (else to /dev/null) */
} Case;

static void case_done(Case *c) {
        free(c->name);
        free(c->config);
        free(c->main);
        free(c->dropins);
        free(c->bindd);
        for (size_t i = 0; i < c->n_expects; i++) {
                free(c->expects[i].file);
                free(c->expects[i].text);
        }
        free(c->expects);
        *c = (Case) {};
}

static void expect_add(Case *c, const char *file, unsigned line, const char *text) {
        Expect *e = realloc(c->expects, (c->n_expects + 1) * sizeof(Expect));
        ASSERT_TRUE(e);
        c->expects = e;
        e[c->n_expects++] = (Expect) {
                .file = file ? strdup(file) : NULL,
                .line = line,
                .text = text && !strstr(text, "%FILE%") && !strstr(text, "%DIR%") ? strdup(text) : NULL,
        };
}

static const char *program(const char *env) {
        const char *p = getenv(env);
        if (!p || !*p)
                test_skip("$%s is not set (run through meson test)", env);
        return p;
}

/* "# expect: LINE: TEXT" lines at the top of a NAME.conf. */
static void read_conf_expects(Case *c, const char *path) {
        _cleanup_free_ char *text = NULL;
        FILE *f;
        size_t size = 0;
        ssize_t n;

        f = fopen(path, "re");
        ASSERT_TRUE(f);
        while ((n = getline(&text, &size, f)) > 0) {
                unsigned line;
                int off = 0;

                if (sscanf(text, "# expect: %u: %n", &line, &off) != 1 || off == 0)
                        break;
                text[strcspn(text, "\n")] = '\0';
                expect_add(c, NULL, line, text + off);
        }
        fclose(f);
        if (c->n_expects == 0)
                TEST_FAIL("%s: no \"# expect:\" lines", path);
}

/* NAME.d/expect: "RELPATH:LINE: TEXT", RELPATH main.conf or conf.d[/FILE]. */
static void read_dir_expects(Case *c, const char *dir) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t size = 0;
        FILE *f;

        ASSERT_TRUE(asprintf(&path, "%s/expect", dir) > 0);
        f = fopen(path, "re");
        ASSERT_TRUE(f);
        while (getline(&text, &size, f) > 0) {
                _cleanup_free_ char *file = NULL;
                char *colon, *rest;
                unsigned line;
                int off = 0;

                text[strcspn(text, "\n")] = '\0';
                if (!*text)
                        continue;
                colon = strchr(text, ':');
                if (!colon || sscanf(colon + 1, "%u: %n", &line, &off) != 1 || off == 0)
                        TEST_FAIL("%s: bad expectation \"%s\"", path, text);
                *colon = '\0';
                rest = colon + 1 + off;
                if (streq(text, "main.conf"))
                        file = strdup(ETC_CONF);
                else if (streq(text, "conf.d"))
                        file = strdup(ETC_DROPINS);
                else if (strneq(text, "conf.d/", 7))
                        ASSERT_TRUE(asprintf(&file, ETC_DROPINS "/%s", text + 7) > 0);
                else
                        TEST_FAIL("%s: unexpected file \"%s\"", path, text);
                ASSERT_TRUE(file);
                expect_add(c, file, line, rest);
        }
        fclose(f);
        if (c->n_expects == 0)
                TEST_FAIL("%s: no expectations", path);
}

/* Put the NAME.d case in place as the default files (in a private mount namespace). Returns
 * false if that is not allowed here. Runs in the child. */
static bool enter_etc(const Case *c) {
        if (unshare(CLONE_NEWNS) < 0)
                return false;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return false;
        if (mount("tmpfs", "/etc", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
                return false;
        if (access(c->main, F_OK) == 0 || faccessat(AT_FDCWD, c->main, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                if (symlink(c->main, ETC_CONF) < 0)
                        return false;
        if (faccessat(AT_FDCWD, c->dropins, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                if (symlink(c->dropins, ETC_DROPINS) < 0)
                        return false;
        return true;
}

#define EXIT_NO_NAMESPACE 99

/* Run ARGV with CASE in place; stderr into ERR_PATH; ENV "NAME=VALUE" entries (NULL-ended) set
 * first. Returns the exit code, or -1 when the case needs a namespace that cannot be had. */
static int run(const Case *c, char *const *argv, const char *const *env, const char *err_path) {
        pid_t pid;
        int st;

        fflush(NULL);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

                if (fd < 0 || null < 0 || dup2(fd, STDERR_FILENO) < 0 ||
                    dup2(c->stdout_too ? fd : null, STDOUT_FILENO) < 0)
                        vb_coverage_exit(127);
                if (!c->config && !enter_etc(c))
                        vb_coverage_exit(EXIT_NO_NAMESPACE);
                for (const char *const *e = env; e && *e; e++)
                        putenv((char *) *e);
                unsetenv("JOURNAL_STREAM");
                if (c->as_nobody && geteuid() == 0) {
                        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
                                vb_coverage_exit(126);
                }
                execv(argv[0], argv);
                vb_coverage_exit(127);
        }
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_NO_NAMESPACE)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Every line of ERR must be one expected diagnostic, in order. */
static void check_diagnostics(const Case *c, const char *err) {
        const char *p = err;
        size_t i = 0;

        for (; *p; i++) {
                const char *eol = strchrnul(p, '\n');
                _cleanup_free_ char *line = strndup(p, (size_t) (eol - p));
                const Expect *e;
                const char *file = NULL;
                char *colon;
                unsigned n;
                int off = 0;

                ASSERT_TRUE(line);
                if (i >= c->n_expects)
                        TEST_FAIL("%s: more diagnostics than expected (%zu); extra: \"%s\"", c->name, c->n_expects,
                                  line);
                e = &c->expects[i];
                file = e->file ?: c->config;
                /* FILE:LINE: message, FILE being the path as read. */
                if (!strneq(line, file, strlen(file)) || line[strlen(file)] != ':')
                        TEST_FAIL("%s: diagnostic %zu does not start with \"%s:\": \"%s\"", c->name, i + 1, file, line);
                colon = line + strlen(file);
                if (sscanf(colon, ":%u: %n", &n, &off) != 1 || off == 0)
                        TEST_FAIL("%s: diagnostic %zu has no LINE: \"%s\"", c->name, i + 1, line);
                if (n != e->line)
                        TEST_FAIL("%s: diagnostic %zu is at line %u, expected %u: \"%s\"", c->name, i + 1, n, e->line,
                                  line);
                if (e->text && !strstr(colon + off, e->text))
                        TEST_FAIL("%s: diagnostic %zu lacks \"%s\": \"%s\"", c->name, i + 1, e->text, line);
                p = *eol ? eol + 1 : eol;
        }
        if (i != c->n_expects)
                TEST_FAIL("%s: %zu diagnostics, expected %zu:\n%s", c->name, i, c->n_expects, err);
}

/* The checks of one case; returns false if it was skipped (no namespace). */
static bool check_case(const Case *c, const char *work) {
        _cleanup_free_ char *err_path = NULL, *err = NULL, *tree = NULL, *config_arg = NULL, *log = NULL;
        _cleanup_free_ char *notify_path = NULL, *notify_env = NULL, *tree_env = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[4096];
        ssize_t k;
        int r, fd;
        bool said = false;

        ASSERT_TRUE(asprintf(&err_path, "%s/stderr", work) > 0);
        if (c->config)
                ASSERT_TRUE(asprintf(&config_arg, "--config=%s", c->config) > 0);

        /* 1. vfio-bindd --validate */
        {
                char *argv[] = { c->bindd ?: (char *) program("VB_BINDD"), (char *) "--validate", config_arg, NULL };
                r = run(c, argv, NULL, err_path);
        }
        if (r < 0)
                return false;
        err = tree_read(work, "stderr");
        ASSERT_TRUE(err);
        if (r != 1)
                TEST_FAIL("%s: vfio-bindd --validate exited %d, expected 1; stderr:\n%s", c->name, r, err);
        check_diagnostics(c, err);

        /* 2. the daemon on a fake machine: nothing is written, STATUS says why. */
        if (c->as_nobody)
                return true; /* root reads the file: that case is about --validate as a user */
        ASSERT_OK(tree_new("desktop", &tree));
        ASSERT_TRUE(asprintf(&notify_path, "%s/notify", tree) > 0);
        ASSERT_TRUE(strlen(notify_path) < sizeof(sa.sun_path));
        strcpy(sa.sun_path, notify_path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? -errno : 0);
        ASSERT_TRUE(asprintf(&notify_env, "NOTIFY_SOCKET=%s", notify_path) > 0);
        ASSERT_TRUE(asprintf(&tree_env, "VB_FAKE_TREE=%s", tree) > 0);
        {
                char *argv[] = { (char *) program("VB_BINDD_TEST"), config_arg, NULL };
                const char *env[] = { notify_env, tree_env, NULL };
                r = run(c, argv, env, err_path);
        }
        while ((k = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
                buf[k] = '\0';
                if (strstr(buf, "STATUS=configuration invalid, no device touched: "))
                        said = true;
        }
        close(fd);
        log = fake_kernel_read_log(tree);
        if (r != 1 || !said || (log && *log)) {
                free(err);
                err = tree_read(work, "stderr");
                TEST_FAIL("%s: the daemon exited %d (expected 1), STATUS %s, fake kernel calls:\n%s\nstderr:\n%s",
                          c->name, r, said ? "ok" : "missing", strempty(log), strempty(err));
        }
        tree_free(TAKE_PTR(tree));
        return true;
}

/* A copy of vfio-bindd in DIR (mode 0755, reachable by anyone as DIR is) for a run as an
 * unprivileged user: the build directory may lie where that user cannot go (a checkout under
 * /root, mode 0700). Returns the copy's path. */
static char *bindd_copy(const char *dir) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        char buf[65536];
        ssize_t k;

        ASSERT_TRUE(asprintf(&path, "%s/vfio-bindd", dir) > 0);
        in = open(program("VB_BINDD"), O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(in >= 0);
        out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        ASSERT_TRUE(out >= 0);
        while ((k = read(in, buf, sizeof(buf))) > 0)
                ASSERT_EQ(write(out, buf, (size_t) k), k);
        ASSERT_EQ(k, 0);
        ASSERT_OK(fchmod(out, 0755) < 0 ? -errno : 0);
        return TAKE_PTR(path);
}

static char *data_path(const char *rel) {
        char *p;
        ASSERT_TRUE(asprintf(&p, "%s/%s", test_data_dir(), rel) > 0);
        return p;
}

static int cmp_name(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

TEST(bad_corpus_against_the_programs) {
        _cleanup_free_ char *dir = data_path("configs/bad"), *work = NULL;
        struct dirent **entries = NULL;
        unsigned checked = 0, skipped = 0;
        int n;

        ASSERT_OK(tree_new("desktop", &work)); /* a scratch directory */
        n = scandir(dir, &entries, NULL, NULL);
        ASSERT_TRUE(n > 0);
        qsort(entries, (size_t) n, sizeof(struct dirent *), (int (*)(const void *, const void *)) cmp_name);
        for (int i = 0; i < n; i++) {
                const char *name = entries[i]->d_name;
                _cleanup_(case_done) Case c = {};
                size_t len = strlen(name);

                if (name[0] == '.')
                        continue;
                c.name = strdup(name);
                if (len > 5 && streq(name + len - 5, ".conf")) {
                        ASSERT_TRUE(asprintf(&c.config, "%s/%s", dir, name) > 0);
                        read_conf_expects(&c, c.config);
                } else if (len > 2 && streq(name + len - 2, ".d")) {
                        _cleanup_free_ char *d = NULL;
                        ASSERT_TRUE(asprintf(&d, "%s/%s", dir, name) > 0);
                        ASSERT_TRUE(asprintf(&c.main, "%s/main.conf", d) > 0);
                        ASSERT_TRUE(asprintf(&c.dropins, "%s/conf.d", d) > 0);
                        read_dir_expects(&c, d);
                } else
                        TEST_FAIL("unexpected entry %s in %s", name, dir);
                if (check_case(&c, work))
                        checked++;
                else
                        skipped++;
        }
        for (int i = 0; i < n; i++)
                free(entries[i]);
        free(entries);
        tree_free(TAKE_PTR(work));
        fprintf(stderr, "%u bad configurations checked against vfio-bindd --validate and the daemon", checked);
        if (skipped)
                fprintf(stderr, "; %u drop-in cases skipped: no private mount namespace here", skipped);
        fputc('\n', stderr);
        ASSERT_INT(checked, >=, 50);
}

TEST(generated_bad_files) {
        _cleanup_free_ char *work = NULL, *big = NULL, *path = NULL;
        struct {
                const char *file;
                unsigned line;
                const char *text;
                bool as_nobody;
        } cases[] = {
                { "long-line.conf", 2, "line is too long (100007 bytes, the limit is 4096)", false },
                { "unreadable.conf", 0, "cannot open: Permission denied", true },
                { "loop.conf", 0, "cannot open: Too many levels of symbolic links", false },
                { "fifo.conf", 0, "is not a regular file", false },
                { "zero.conf", 0, "is not a regular file", false },
                { "dir.conf", 0, "is a directory, not a configuration file", false },
                { "missing.conf", 0, "cannot open: No such file or directory", false },
        };

        ASSERT_OK(tree_new("desktop", &work));
        /* 100 KB on one line. */
        big = malloc(100 * 1024 + 64);
        ASSERT_TRUE(big);
        strcpy(big, "[Bind]\nDevice=");
        memset(big + strlen(big), 'a', 100000);
        strcpy(big + strlen("[Bind]\nDevice=") + 100000, "\n");
        ASSERT_OK(tree_write(work, "long-line.conf", big));
        ASSERT_OK(tree_write(work, "unreadable.conf", "[Bind]\nDevice=01:00.0\n"));
        ASSERT_TRUE(asprintf(&path, "%s/unreadable.conf", work) > 0);
        ASSERT_OK(chmod(path, 0) < 0 ? -errno : 0);
        ASSERT_OK(chmod(work, 0755) < 0 ? -errno : 0); /* nobody may look into the directory */
        ASSERT_OK(tree_symlink(work, "loop.conf", "loop.conf"));
        free(path);
        ASSERT_TRUE(asprintf(&path, "%s/fifo.conf", work) > 0);
        ASSERT_OK(mkfifo(path, 0644) < 0 ? -errno : 0);
        ASSERT_OK(tree_symlink(work, "/dev/zero", "zero.conf"));
        free(path);
        ASSERT_TRUE(asprintf(&path, "%s/dir.conf", work) > 0);
        ASSERT_OK(mkdir(path, 0755) < 0 ? -errno : 0);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(case_done) Case c = { .as_nobody = cases[i].as_nobody };
                _cleanup_free_ char *scratch = NULL;

                c.name = strdup(cases[i].file);
                if (c.as_nobody && geteuid() == 0)
                        c.bindd = bindd_copy(work);
                ASSERT_TRUE(asprintf(&c.config, "%s/%s", work, cases[i].file) > 0);
                expect_add(&c, NULL, cases[i].line, cases[i].text);
                ASSERT_OK(tree_new("desktop", &scratch));
                ASSERT_TRUE(check_case(&c, scratch));
                tree_free(TAKE_PTR(scratch));
        }
        ASSERT_OK(chmod(work, 0700) < 0 ? -errno : 0);
        tree_free(TAKE_PTR(work));
}

/* No configuration at all (neither the file nor a drop-in): --validate says so, and does not call a
 * file that does not exist valid. */
TEST(validate_without_any_configuration) {
        _cleanup_(case_done) Case c = { .stdout_too = true };
        _cleanup_free_ char *work = NULL, *err_path = NULL, *out = NULL;
        int r;

        ASSERT_OK(tree_new("desktop", &work));
        c.name = strdup("no configuration");
        ASSERT_TRUE(asprintf(&c.main, "%s/absent.conf", work) > 0);
        ASSERT_TRUE(asprintf(&c.dropins, "%s/absent.d", work) > 0);
        ASSERT_TRUE(asprintf(&err_path, "%s/out", work) > 0);
        {
                char *argv[] = { (char *) program("VB_BINDD"), (char *) "--validate", NULL };
                r = run(&c, argv, NULL, err_path);
        }
        if (r < 0) {
                tree_free(TAKE_PTR(work));
                fprintf(stderr, "skipped: no private mount namespace here for a fake /etc\n");
                return;
        }
        out = tree_read(work, "out");
        ASSERT_EQ(r, 0);
        ASSERT_CONTAINS(out, "no configuration: neither /etc/vfio-bind.conf nor /etc/vfio-bind.conf.d/*.conf exists");
        ASSERT_NOT_CONTAINS(out, "valid");
        tree_free(TAKE_PTR(work));
}

TEST(good_corpus_validates) {
        _cleanup_free_ char *dir = data_path("configs/good"), *work = NULL;
        struct dirent **entries = NULL;
        unsigned checked = 0;
        int n;

        ASSERT_OK(tree_new("desktop", &work));
        n = scandir(dir, &entries, NULL, NULL);
        ASSERT_TRUE(n > 0);
        for (int i = 0; i < n; i++) {
                const char *name = entries[i]->d_name;
                size_t len = strlen(name);

                if (len > 5 && streq(name + len - 5, ".conf")) {
                        _cleanup_(case_done) Case c = {};
                        _cleanup_free_ char *err_path = NULL, *arg = NULL, *err = NULL;
                        int r;

                        ASSERT_TRUE(asprintf(&c.config, "%s/%s", dir, name) > 0);
                        ASSERT_TRUE(asprintf(&arg, "--config=%s", c.config) > 0);
                        ASSERT_TRUE(asprintf(&err_path, "%s/stderr", work) > 0);
                        {
                                char *argv[] = { (char *) program("VB_BINDD"), (char *) "--validate", arg, NULL };
                                r = run(&c, argv, NULL, err_path);
                        }
                        err = tree_read(work, "stderr");
                        if (r != 0)
                                TEST_FAIL("%s: vfio-bindd --validate exited %d: %s", name, r, strempty(err));
                        checked++;
                }
                free(entries[i]);
        }
        free(entries);
        tree_free(TAKE_PTR(work));
        ASSERT_INT(checked, >=, 15);
}

TESTS_MAIN()
