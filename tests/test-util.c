/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The named mechanics of lib/: array growth, reading to the end, joining, search by address. */

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "address.h"
#include "alloc-util.h"
#include "io-util.h"
#include "macro.h"
#include "strv.h"
#include "tests.h"

TEST(greedy_realloc_many_appends) {
        _cleanup_free_ uint32_t *a = NULL;
        size_t n = 0, allocated = 0, reallocations = 0;

        for (uint32_t i = 0; i < 100000; i++) {
                uint32_t *before = a;
                size_t room = allocated;

                ASSERT_TRUE(VB_GREEDY_REALLOC(a, allocated, n + 1));
                ASSERT_INT(allocated, >=, n + 1);
                if (a != before || allocated != room)
                        reallocations++;
                a[n++] = i;
        }
        for (uint32_t i = 0; i < n; i++)
                ASSERT_EQ(a[i], i);
        /* doubling: about log2(100000 / 16) reallocations, not one per append */
        ASSERT_INT(reallocations, <=, 20);
}

TEST(greedy_realloc_enough_room_keeps_the_array) {
        _cleanup_free_ char *s = NULL;
        size_t allocated = 0;
        char *before;

        ASSERT_TRUE(VB_GREEDY_REALLOC(s, allocated, 10));
        ASSERT_INT(allocated, >=, 20);
        before = s;
        ASSERT_TRUE(VB_GREEDY_REALLOC(s, allocated, allocated) == before);
        ASSERT_TRUE(VB_GREEDY_REALLOC(s, allocated, 1) == before);
}

typedef struct Big {
        char bytes[1000];
} Big;

TEST(greedy_realloc_zero) {
        _cleanup_free_ uint64_t *a = NULL;
        _cleanup_free_ Big *big = NULL;
        size_t allocated = 0, big_allocated = 0;

        /* Nothing needed still gives an array (at least 64 bytes), never NULL for success. */
        ASSERT_TRUE(VB_GREEDY_REALLOC(a, allocated, 0));
        ASSERT_EQ(allocated, 64 / sizeof(uint64_t));
        ASSERT_TRUE(VB_GREEDY_REALLOC(big, big_allocated, 0));
        ASSERT_EQ(big_allocated, 1);
}

TEST(greedy_realloc_stale_count_without_array) {
        _cleanup_free_ int *a = NULL;
        size_t allocated = 1000; /* left behind by an array that was given away */

        ASSERT_TRUE(VB_GREEDY_REALLOC(a, allocated, 3));
        ASSERT_EQ(allocated, 16);
        a[2] = 7;
        ASSERT_EQ(a[2], 7);
}

TEST(greedy_realloc_overflow_refused) {
        _cleanup_free_ uint64_t *a = NULL;
        size_t allocated = 0;
        uint64_t *before;

        ASSERT_TRUE(VB_GREEDY_REALLOC(a, allocated, 4));
        a[3] = 42;
        before = a;
        /* need * 2 overflows, then need * 2 * 8 does */
        for (size_t need = SIZE_MAX; need > SIZE_MAX / 16; need /= 2) {
                errno = 0;
                ASSERT_NULL(VB_GREEDY_REALLOC(a, allocated, need));
                ASSERT_EQ(errno, ENOMEM);
                /* untouched: the same array, the same room */
                ASSERT_TRUE(a == before);
                ASSERT_EQ(allocated, 8);
                ASSERT_EQ(a[3], 42);
        }
}

/* A file of SIZE bytes 'a', 'b', … 'z', 'a', …, read from its start. */
static int file_of(size_t size) {
        int fd = memfd_create("test-util", MFD_CLOEXEC);

        if (fd < 0)
                return -errno;
        for (size_t i = 0; i < size; i++) {
                char c = (char) ('a' + i % 26);
                if (write(fd, &c, 1) != 1) {
                        close(fd);
                        return -EIO;
                }
        }
        if (lseek(fd, 0, SEEK_SET) < 0) {
                close(fd);
                return -errno;
        }
        return fd;
}

static bool is_file_of(const char *s, size_t size) {
        for (size_t i = 0; i < size; i++)
                if (s[i] != (char) ('a' + i % 26))
                        return false;
        return s[size] == '\0';
}

TEST(read_full_empty) {
        _cleanup_close_ int fd = file_of(0);
        _cleanup_free_ char *s = NULL;
        size_t size = 1;

        ASSERT_OK(fd);
        ASSERT_OK(vb_read_full_fd(fd, 100, 0, &s, &size));
        ASSERT_STREQ(s, "");
        ASSERT_EQ(size, 0);
}

TEST(read_full_exact_max) {
        /* less than a read, exactly one read's worth, over several reads */
        static const size_t sizes[] = { 1, 100, 4096, 8193, 100000 };

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_close_ int fd = file_of(sizes[i]);
                _cleanup_free_ char *s = NULL;
                size_t size;

                ASSERT_OK(fd);
                ASSERT_OK(vb_read_full_fd(fd, sizes[i], 0, &s, &size));
                ASSERT_EQ(size, sizes[i]);
                ASSERT_TRUE(is_file_of(s, size));
        }
}

TEST(read_full_over_max) {
        static const size_t sizes[] = { 1, 100, 4096, 8193, 100000 };

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_close_ int fd = file_of(sizes[i]);
                char *s = NULL;

                ASSERT_OK(fd);
                ASSERT_ERRNO(vb_read_full_fd(fd, sizes[i] - 1, 0, &s, NULL), EFBIG);
                ASSERT_NULL(s);
        }
}

TEST(read_full_no_limit_no_size) {
        _cleanup_close_ int fd = file_of(50000);
        _cleanup_free_ char *s = NULL;

        ASSERT_OK(fd);
        ASSERT_OK(vb_read_full_fd(fd, SIZE_MAX, 0, &s, NULL));
        ASSERT_EQ(strlen(s), 50000);
        ASSERT_TRUE(is_file_of(s, 50000));
}

TEST(read_full_pipe_short_reads) {
        _cleanup_free_ char *s = NULL;
        int p[2], status;
        size_t size;
        pid_t pid;

        ASSERT_OK(pipe2(p, O_CLOEXEC));
        pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
                /* 300 writes of 37 bytes with pauses: the reader sees many short reads */
                close(p[0]);
                for (size_t i = 0; i < 300 * 37; i += 37) {
                        char chunk[37];
                        for (size_t j = 0; j < sizeof(chunk); j++)
                                chunk[j] = (char) ('a' + (i + j) % 26);
                        if (write(p[1], chunk, sizeof(chunk)) != sizeof(chunk))
                                vb_coverage_exit(1);
                        if (i % 370 == 0)
                                usleep(1000);
                }
                vb_coverage_exit(0);
        }
        close(p[1]);
        ASSERT_OK(vb_read_full_fd(p[0], SIZE_MAX, 0, &s, &size));
        close(p[0]);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ASSERT_EQ(size, 300 * 37);
        ASSERT_TRUE(is_file_of(s, size));
}

TEST(read_full_short_is_end) {
        _cleanup_free_ char *s = NULL;
        int p[2];
        size_t size;

        /* The pipe stays open: without VB_READ_SHORT_IS_END this would wait for more. */
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        ASSERT_EQ(write(p[1], "abcde", 5), 5);
        ASSERT_OK(vb_read_full_fd(p[0], 100, VB_READ_SHORT_IS_END, &s, &size));
        ASSERT_STREQ(s, "abcde");
        ASSERT_EQ(size, 5);
        /* the limit holds also for one read */
        free(s);
        s = NULL;
        ASSERT_EQ(write(p[1], "abcde", 5), 5);
        ASSERT_ERRNO(vb_read_full_fd(p[0], 4, VB_READ_SHORT_IS_END, &s, &size), EFBIG);
        ASSERT_NULL(s);
        close(p[0]);
        close(p[1]);
}

TEST(loop_read) {
        char buf[16] = {};
        int p[2];

        /* what is there, then the end: fewer bytes than asked only at the end */
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        ASSERT_EQ(write(p[1], "abc", 3), 3);
        ASSERT_EQ(write(p[1], "defgh", 5), 5);
        ASSERT_EQ(vb_loop_read(p[0], buf, 4), 4);
        ASSERT_TRUE(memcmp(buf, "abcd", 4) == 0);
        close(p[1]);
        ASSERT_EQ(vb_loop_read(p[0], buf, sizeof(buf)), 4);
        ASSERT_TRUE(memcmp(buf, "efgh", 4) == 0);
        ASSERT_EQ(vb_loop_read(p[0], buf, sizeof(buf)), 0);
        close(p[0]);
        ASSERT_ERRNO(vb_loop_read(p[0], buf, sizeof(buf)), EBADF);
}

TEST(join_append) {
        _cleanup_free_ char *s = NULL;

        /* nothing appended: still NULL, as the callers' "none" */
        ASSERT_NULL(s);
        ASSERT_OK(vb_join_append(&s, ", ", "%s on %s", "0000:01:00.1", "snd_hda_intel"));
        ASSERT_STREQ(s, "0000:01:00.1 on snd_hda_intel");
        ASSERT_OK(vb_join_append(&s, ", ", "vtcon%u", 1u));
        ASSERT_STREQ(s, "0000:01:00.1 on snd_hda_intel, vtcon1");
        ASSERT_OK(vb_join_append(&s, "", "%s", ""));
        ASSERT_STREQ(s, "0000:01:00.1 on snd_hda_intel, vtcon1");
        ASSERT_OK(vb_join_append(&s, " ", "and %zu more", (size_t) 3));
        ASSERT_STREQ(s, "0000:01:00.1 on snd_hda_intel, vtcon1 and 3 more");
}

TEST(join_append_long) {
        _cleanup_free_ char *s = NULL;
        size_t n = 0;

        for (unsigned i = 0; i < 1000; i++) {
                ASSERT_OK(vb_join_append(&s, "; ", "%u", i));
                n += (i ? 2 : 0) + (size_t) snprintf(NULL, 0, "%u", i);
                ASSERT_EQ(strlen(s), n);
        }
        ASSERT_TRUE(startswith(s, "0; 1; 2; "));
        ASSERT_TRUE(strstr(s, "; 998; 999") && streq(strstr(s, "; 998; 999"), "; 998; 999"));
}

#define ADDR(d, b, s, f) ((VbPciAddress) { .domain = (d), .bus = (b), .slot = (s), .function = (f) })

/* The address not first in the element, as in most of the arrays searched. */
typedef struct Item {
        int value;
        VbPciAddress address;
        const char *name;
} Item;

TEST(address_bsearch_found) {
        static const Item items[] = {
                { 1, ADDR(0, 0x00, 0x02, 0), "igpu" },      { 2, ADDR(0, 0x01, 0x00, 0), "gpu" },
                { 3, ADDR(0, 0x01, 0x00, 1), "audio" },     { 4, ADDR(0xffff, 0x00, 0x00, 0), "high" },
                { 5, ADDR(0x10000, 0xe1, 0x00, 0), "vmd" },
        };

        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                const Item *x = VB_PCI_ADDRESS_BSEARCH(items, ELEMENTSOF(items), address, &items[i].address);
                ASSERT_TRUE(x == &items[i]);
                ASSERT_EQ(VB_PCI_ADDRESS_LOWER_BOUND(items, ELEMENTSOF(items), address, &items[i].address), i);
        }
}

TEST(address_bsearch_not_found) {
        static const Item items[] = {
                { 1, ADDR(0, 0x00, 0x02, 0), "igpu" },
                { 2, ADDR(0, 0x01, 0x00, 0), "gpu" },
                { 3, ADDR(0, 0x01, 0x00, 2), "usb" },
        };
        static const struct {
                VbPciAddress key;
                size_t at; /* where it would go */
        } missing[] = {
                { ADDR(0, 0x00, 0x00, 0), 0 }, /* before the first */
                { ADDR(0, 0x00, 0x02, 1), 1 }, /* between */
                { ADDR(0, 0x01, 0x00, 1), 2 }, /* between, by function */
                { ADDR(0, 0x02, 0x00, 0), 3 }, /* after the last */
                { ADDR(1, 0x00, 0x00, 0), 3 }, /* another domain */
        };

        for (size_t i = 0; i < ELEMENTSOF(missing); i++) {
                ASSERT_NULL(VB_PCI_ADDRESS_BSEARCH(items, ELEMENTSOF(items), address, &missing[i].key));
                ASSERT_EQ(VB_PCI_ADDRESS_LOWER_BOUND(items, ELEMENTSOF(items), address, &missing[i].key),
                          missing[i].at);
        }
}

TEST(address_bsearch_empty_and_duplicates) {
        const Item *none = NULL;
        static const Item twice[] = {
                { 1, ADDR(0, 0x01, 0x00, 0), "a" }, { 2, ADDR(0, 0x03, 0x00, 0), "b" },
                { 3, ADDR(0, 0x03, 0x00, 0), "c" }, { 4, ADDR(0, 0x03, 0x00, 0), "d" },
                { 5, ADDR(0, 0x04, 0x00, 0), "e" },
        };

        ASSERT_NULL(VB_PCI_ADDRESS_BSEARCH(none, 0, address, &ADDR(0, 0, 0, 0)));
        ASSERT_EQ(VB_PCI_ADDRESS_LOWER_BOUND(none, 0, address, &ADDR(0, 0, 0, 0)), 0);
        /* the first of equal ones */
        ASSERT_TRUE(VB_PCI_ADDRESS_BSEARCH(twice, ELEMENTSOF(twice), address, &ADDR(0, 3, 0, 0)) == &twice[1]);
        ASSERT_EQ(VB_PCI_ADDRESS_LOWER_BOUND(twice, ELEMENTSOF(twice), address, &ADDR(0, 3, 0, 0)), 1);
        ASSERT_EQ(VB_PCI_ADDRESS_LOWER_BOUND(twice, ELEMENTSOF(twice), address, &ADDR(0, 3, 0, 1)), 4);
}

TEST(address_bsearch_many) {
        _cleanup_free_ Item *items = NULL;
        size_t n = 0, allocated = 0;

        /* every slot and function of three buses, in order */
        for (unsigned bus = 0; bus < 3; bus++)
                for (unsigned slot = 0; slot < 32; slot++)
                        for (unsigned f = 0; f < 8; f++) {
                                ASSERT_TRUE(VB_GREEDY_REALLOC(items, allocated, n + 1));
                                items[n] = (Item) { (int) n, ADDR(0, (uint8_t) (bus * 2), (uint8_t) slot, (uint8_t) f),
                                                    NULL };
                                n++;
                        }
        for (size_t i = 0; i < n; i++) {
                VbPciAddress odd = items[i].address;
                const Item *x = VB_PCI_ADDRESS_BSEARCH(items, n, address, &items[i].address);

                ASSERT_TRUE(x && x->value == (int) i);
                odd.bus++; /* the buses between are empty */
                ASSERT_NULL(VB_PCI_ADDRESS_BSEARCH(items, n, address, &odd));
        }
}

TESTS_MAIN();
