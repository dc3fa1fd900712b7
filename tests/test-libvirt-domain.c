/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt's domain XML as the hook and check read it (lib/libvirt-domain.h): libvirt's forms of
 * a PCI address, managed yes and no, what is not a PCI hostdev, and bad input refused by line. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libvirt-domain.h"
#include "macro.h"
#include "tests.h"

static int parse(const char *xml, VbLibvirtDomain *d, char **error) {
        return vb_libvirt_domain_parse(xml, strlen(xml), "stdin", d, error);
}

#define HOSTDEV(managed, dom, bus, slot, fn)                                               \
        "  <hostdev mode='subsystem' type='pci' " managed                                  \
        ">\n"                                                                              \
        "   <source><address domain='" dom "' bus='" bus "' slot='" slot "' function='" fn \
        "'/></source>\n"                                                                   \
        "  </hostdev>\n"

TEST(pci_hostdevs_managed_or_not_in_every_form_libvirt_writes) {
        _cleanup_(vb_libvirt_domain_done) VbLibvirtDomain d = {};
        _cleanup_free_ char *error = NULL;
        const char *xml =
                "<domain type='qemu'>\n"
                " <name>win11</name>\n"
                " <devices>\n"
                "  <disk type='file' device='disk'/>\n"                  /* line 4 */
                HOSTDEV("managed='no'", "0x0000", "0x01", "0x00", "0x0") /* line 5 */
                HOSTDEV("managed='yes'", "0", "1", "0", "1")             /* line 8 */
                HOSTDEV("", "0x10000", "0xe1", "0x1f", "7")              /* line 11 */
                HOSTDEV("managed='no'", "0", "010", "0", "0")            /* line 14: octal */
                " </devices>\n"
                "</domain>\n";

        ASSERT_OK(parse(xml, &d, &error));
        ASSERT_NULL(error);
        ASSERT_STREQ(d.name, "win11");
        ASSERT_EQ(d.n_hostdevs, 4u);
        ASSERT_EQ(d.hostdevs[0].kind, VB_HOSTDEV_PCI);
        ASSERT_FALSE(d.hostdevs[0].managed);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&d.hostdevs[0].address), "0000:01:00.0");
        ASSERT_EQ(d.hostdevs[0].line, 5u);
        ASSERT_TRUE(d.hostdevs[1].managed);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&d.hostdevs[1].address), "0000:01:00.1");
        ASSERT_EQ(d.hostdevs[1].line, 8u);
        /* no managed= is libvirt's managed='no'; a VMD domain has five digits */
        ASSERT_FALSE(d.hostdevs[2].managed);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&d.hostdevs[2].address), "10000:e1:1f.7");
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&d.hostdevs[3].address), "0000:08:00.0");
        {
                _cleanup_free_ char *w = vb_hostdev_describe(&d.hostdevs[1]);
                ASSERT_STREQ(w, "<hostdev type='pci' managed='yes'> 0000:01:00.1");
        }
}

TEST(what_is_not_a_pci_hostdev_is_listed_as_other) {
        _cleanup_(vb_libvirt_domain_done) VbLibvirtDomain d = {};
        _cleanup_free_ char *error = NULL;
        const char *xml =
                "<domain type='kvm'><name>vm</name><devices>\n"
                "<hostdev mode='subsystem' type='usb' managed='yes'><source><vendor id='0x046d'/></source></hostdev>\n"
                "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address "
                "uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>\n"
                "<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block></source></hostdev>\n"
                "<hostdev mode='subsystem' type='pci'><driver name='kvm'/><source><address bus='2'/></source></hostdev>\n"
                "<interface type='network'><source network='default'/></interface>\n"
                "<interface type='hostdev' managed='no'><source><address type='pci' domain='0' bus='3' slot='0x10' "
                "function='2'/></source></interface>\n"
                "<interface type='hostdev'><source><address type='usb' bus='1' device='2'/></source></interface>\n"
                "<hostdev mode='subsystem' type='pci'><driver name='vfio'/><source><address bus='4'/></source></hostdev>\n"
                "</devices></domain>";

        ASSERT_OK(parse(xml, &d, &error));
        ASSERT_EQ(d.n_hostdevs, 7u);
        ASSERT_EQ(d.hostdevs[0].kind, VB_HOSTDEV_OTHER);
        ASSERT_STREQ(d.hostdevs[0].what, "<hostdev mode='subsystem' type='usb'>");
        ASSERT_EQ(d.hostdevs[0].line, 2u);
        ASSERT_STREQ(d.hostdevs[1].what, "<hostdev mode='subsystem' type='mdev'>");
        ASSERT_STREQ(d.hostdevs[2].what, "<hostdev mode='capabilities' type='storage'>");
        ASSERT_STREQ(d.hostdevs[3].what, "<hostdev type='pci'> with <driver name='kvm'>");
        /* an SR-IOV NIC's VF as an interface: a PCI device vfio-bind hands over */
        ASSERT_EQ(d.hostdevs[4].kind, VB_HOSTDEV_PCI);
        ASSERT_TRUE(d.hostdevs[4].interface);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&d.hostdevs[4].address), "0000:03:10.2");
        {
                _cleanup_free_ char *w = vb_hostdev_describe(&d.hostdevs[4]);
                ASSERT_STREQ(w, "<interface type='hostdev' managed='no'> 0000:03:10.2");
        }
        ASSERT_EQ(d.hostdevs[5].kind, VB_HOSTDEV_OTHER);
        ASSERT_STREQ(d.hostdevs[5].what, "<interface type='hostdev'> with <address type='usb'>");
        /* driver vfio named, attributes absent are 0 as in libvirt */
        ASSERT_EQ(d.hostdevs[6].kind, VB_HOSTDEV_PCI);
        ASSERT_STREQ(VB_PCI_ADDRESS_STR(&d.hostdevs[6].address), "0000:04:00.0");
}

TEST(no_devices_no_hostdevs) {
        _cleanup_(vb_libvirt_domain_done) VbLibvirtDomain d = {}, e = {};

        ASSERT_OK(parse("<domain><name>a</name></domain>", &d, NULL));
        ASSERT_EQ(d.n_hostdevs, 0u);
        ASSERT_OK(parse("<domain><devices><disk/></devices></domain>", &e, NULL));
        ASSERT_NULL(e.name);
        ASSERT_EQ(e.n_hostdevs, 0u);
}

/* Parsing XML fails with -EBADMSG and exactly WANT. */
static void bad(const char *xml, const char *want) {
        _cleanup_(vb_libvirt_domain_done) VbLibvirtDomain d = {};
        _cleanup_free_ char *error = NULL;

        ASSERT_ERRNO(parse(xml, &d, &error), EBADMSG);
        ASSERT_STREQ(error, want);
        ASSERT_EQ(d.n_hostdevs, 0u);
}

TEST(bad_input_is_refused_by_line) {
        bad("", "stdin: empty: no domain definition");
        bad("<domain>\n<devices>\n</domain>", "stdin:3: Opening and ending tag mismatch: devices line 2 and domain");
        bad("not xml", "stdin:1: Start tag expected, '<' not found");
        bad("<network><name>default</name></network>", "stdin:1: the document is <network>, not a libvirt <domain>");
        bad("<domain><devices>\n" HOSTDEV("managed='no'", "0", "1", "0x20", "0") "</devices></domain>",
            "stdin:3: <address slot='0x20'> is not a number from 0 to 0x1f");
        bad("<domain><devices>\n" HOSTDEV("managed='no'", "0", "0x100", "0", "0") "</devices></domain>",
            "stdin:3: <address bus='0x100'> is not a number from 0 to 0xff");
        bad("<domain><devices>\n" HOSTDEV("managed='no'", "0", "1", "0", "-1") "</devices></domain>",
            "stdin:3: <address function='-1'> is not a number from 0 to 0x7");
        bad("<domain><devices>\n" HOSTDEV("managed='no'", "0x1g", "1", "0", "0") "</devices></domain>",
            "stdin:3: <address domain='0x1g'> is not a number from 0 to 0xffffffff");
        bad("<domain><devices>\n" HOSTDEV("managed='no'", "", "1", "0", "0") "</devices></domain>",
            "stdin:3: <address domain=''> is not a number from 0 to 0xffffffff");
        bad("<domain><devices>\n" HOSTDEV("managed='maybe'", "0", "1", "0", "0") "</devices></domain>",
            "stdin:2: managed='maybe' is neither 'yes' nor 'no'");
        bad("<domain><devices>\n<hostdev mode='subsystem' type='pci'><source/></hostdev></devices></domain>",
            "stdin:2: <hostdev type='pci'> has no <source><address>");
        bad("<domain><devices>\n<interface type='hostdev'/></devices></domain>",
            "stdin:2: <interface type='hostdev'> has no <source><address>");
}

TEST(entities_are_never_expanded_nor_fetched) {
        _cleanup_(vb_libvirt_domain_done) VbLibvirtDomain d = {}, e = {};
        _cleanup_free_ char *error = NULL;
        int r;

        /* an external entity is not read (no /etc/passwd in the name), an internal one not
         * expanded: the name keeps only its own text */
        ASSERT_OK(
                parse("<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
                      "<domain><name>a&x;b</name></domain>",
                      &d, NULL));
        ASSERT_STREQ(d.name, "ab");
        /* nested entities that would expand to a megabyte: refused, or kept unexpanded, never
         * expanded */
        r =
                parse("<!DOCTYPE domain [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
                      "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>"
                      "<!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'><!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>]>"
                      "<domain><name>vm&f;</name></domain>",
                      &e, &error);
        if (r < 0) {
                ASSERT_EQ(r, -EBADMSG);
                ASSERT_TRUE(error && startswith(error, "stdin:1: "));
        } else
                ASSERT_STREQ(e.name, "vm");
}

TEST(too_large_is_refused_before_parsing) {
        _cleanup_(vb_libvirt_domain_done) VbLibvirtDomain d = {}, e = {};
        _cleanup_free_ char *error = NULL, *error2 = NULL, *big = NULL;
        size_t size = 10 * 1024 * 1024;
        int fd;

        /* 10 MB: a valid document (a domain with a long comment), refused for its size */
        big = malloc(size + 1);
        ASSERT_TRUE(big);
        memset(big, ' ', size);
        memcpy(big, "<domain><!--", 12);
        memcpy(big + size - 13, "--></domain>\n", 13);
        big[size] = 0;
        ASSERT_ERRNO(vb_libvirt_domain_parse(big, size, "stdin", &d, &error), EFBIG);
        ASSERT_STREQ(error, "stdin: 10485760 bytes, more than a domain definition's 1048576");

        /* through a file descriptor, as on the hook's stdin */
        fd = memfd_create("big.xml", MFD_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, big, size), (ssize_t) size);
        ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
        ASSERT_ERRNO(vb_libvirt_domain_read_fd(fd, "stdin", &e, &error2), EFBIG);
        ASSERT_STREQ(error2, "stdin: more than a domain definition's 1048576 bytes");
        close(fd);
}

TESTS_MAIN()
