/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput() on files, without libFuzzer: how the normal
 * build replays the seed corpora and every crash the fuzzer ever found (tests/fuzz/regressions/)
 * under its own sanitizers or valgrind. Arguments are files or directories (searched
 * recursively; symlinks are not followed, so the bad corpus's loops and devices are skipped).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned n_inputs;

static int run_file(const char *path) {
        struct stat st;
        uint8_t *buf;
        ssize_t n;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                if (fd >= 0)
                        close(fd);
                return 0; /* not a regular file: nothing to feed */
        }
        buf = malloc((size_t) st.st_size + 1);
        if (!buf) {
                close(fd);
                return -1;
        }
        n = read(fd, buf, (size_t) st.st_size);
        close(fd);
        if (n < 0) {
                free(buf);
                fprintf(stderr, "%s: cannot read: %m\n", path);
                return -1;
        }
        LLVMFuzzerTestOneInput(buf, (size_t) n);
        free(buf);
        n_inputs++;
        return 0;
}

static int run_path(const char *path) {
        struct stat st;
        struct dirent **e;
        int n, r = 0;

        if (lstat(path, &st) < 0) {
                fprintf(stderr, "%s: %m\n", path);
                return -1;
        }
        if (!S_ISDIR(st.st_mode))
                return S_ISREG(st.st_mode) ? run_file(path) : 0;
        n = scandir(path, &e, NULL, alphasort);
        if (n < 0) {
                fprintf(stderr, "%s: %m\n", path);
                return -1;
        }
        for (int i = 0; i < n; i++) {
                char *p;

                if (e[i]->d_name[0] != '.' && asprintf(&p, "%s/%s", path, e[i]->d_name) >= 0) {
                        if (run_path(p) < 0)
                                r = -1;
                        free(p);
                }
                free(e[i]);
        }
        free(e);
        return r;
}

int main(int argc, char **argv) {
        int r = 0;

        for (int i = 1; i < argc; i++)
                if (run_path(argv[i]) < 0)
                        r = 1;
        fprintf(stderr, "%u inputs run without a crash\n", n_inputs);
        return r != 0 || n_inputs == 0;
}
