/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Driver=auto's choice (lib/driver-choice) against a real libkmod index built for the test
 * (tests/kmod/make-index.sh: modules with vfio_pci: aliases, depmod), and the driver name a
 * module registers (lib/driver). */
#include <stdio.h>
#include <sys/stat.h>

#include "driver-choice.h"
#include "driver.h"
#include "kernel.h"
#include "macro.h"
#include "modalias.h"
#include "tests.h"
#include "tree.h"

static const char *index_dir(void) {
        const char *d = getenv("VB_KMOD_INDEX");
        if (!d)
                TEST_FAIL("VB_KMOD_INDEX is not set (meson test sets it)");
        return d;
}

/* A context on the desktop tree whose kernel looks in the test's index (or in DIR). */
static VbContext *open_ctx(const char *modules_dir, char **ret_dir) {
        _cleanup_free_ char *sys = NULL;
        VbContext *ctx;
        VbKernel *k;

        ASSERT_OK(tree_new("desktop", ret_dir));
        ASSERT_TRUE(asprintf(&sys, "%s/sys", *ret_dir) > 0);
        ASSERT_OK(vb_context_new(&ctx, sys, NULL));
        ASSERT_OK(vb_kernel_new_at(&k, modules_dir));
        vb_context_set_kernel_ops(ctx, &vb_kernel_ops, k);
        return ctx;
}

static void choose(VbContext *ctx, const char *alias, VbDriverChoice *ret) {
        VbPciAddress a = {};
        ASSERT_OK(vb_driver_choice_lookup(ctx, &a, alias, 0, ret));
}

TEST(most_specific_alias_wins) {
        _cleanup_free_ char *why = NULL;
        VbDriverChoice c = {};
        char *dir;
        VbContext *ctx = open_ctx(index_dir(), &dir);

        /* Three match: vfio_pci (7 wildcards), virtio_vfio_pci (5), sub_vfio_pci (3). */
        choose(ctx, "vfio_pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00", &c);
        ASSERT_EQ(c.kind, VB_DRIVER_CHOICE_VARIANT);
        ASSERT_STREQ(c.module, "sub_vfio_pci");
        ASSERT_STREQ(c.pattern, "vfio_pci:v00001AF4d00001041sv00001AF4sd00001100bc*sc*i*");
        ASSERT_EQ(c.wildcards, 3u);
        ASSERT_EQ(c.n_matches, 3u);
        ASSERT_TRUE(c.tie == NULL);
        /* Not loaded: its driver's name is not known yet. */
        ASSERT_TRUE(c.driver == NULL);
        ASSERT_FALSE(c.registered);
        ASSERT_OK(vb_driver_choice_explain(&c, &why));
        ASSERT_TRUE(strstr(why, "sub_vfio_pci") && strstr(why, "most specific of 3 matches"));
        vb_driver_choice_done(&c);

        /* Another subsystem: sub_vfio_pci's pattern does not match, virtio_vfio_pci's does. */
        choose(ctx, "vfio_pci:v00001AF4d00001041sv00001AF4sd00000001bc02sc00i00", &c);
        ASSERT_EQ(c.kind, VB_DRIVER_CHOICE_VARIANT);
        ASSERT_STREQ(c.module, "virtio_vfio_pci");
        ASSERT_EQ(c.wildcards, 5u);
        ASSERT_EQ(c.n_matches, 2u);
        vb_driver_choice_done(&c);
        vb_context_free(ctx);
        tree_free(dir);
}

TEST(tie_goes_to_the_first_name_and_is_told) {
        _cleanup_free_ char *why = NULL;
        VbDriverChoice c = {};
        char *dir;
        VbContext *ctx = open_ctx(index_dir(), &dir);

        /* alpha_vfio_pci and zeta_vfio_pci are as specific; a host driver's pci: alias for the
         * same ID is no candidate. */
        choose(ctx, "vfio_pci:v00008086d00001234sv00008086sd00000000bc02sc00i00", &c);
        ASSERT_STREQ(c.module, "alpha_vfio_pci");
        ASSERT_STREQ(c.tie, "zeta_vfio_pci");
        ASSERT_EQ(c.n_matches, 3u);
        ASSERT_OK(vb_driver_choice_explain(&c, &why));
        ASSERT_TRUE(strstr(why, "zeta_vfio_pci's alias is as specific"));
        vb_driver_choice_done(&c);
        vb_context_free(ctx);
        tree_free(dir);
}

TEST(no_variant_matches_plain_vfio_pci) {
        VbDriverChoice c = {};
        char *dir;
        VbContext *ctx = open_ctx(index_dir(), &dir);

        choose(ctx, "vfio_pci:v000010DEd00002204sv000010DEsd00000000bc03sc00i00", &c);
        ASSERT_EQ(c.kind, VB_DRIVER_CHOICE_PLAIN);
        ASSERT_STREQ(c.module, "vfio_pci");
        ASSERT_STREQ(c.driver, "vfio-pci");
        ASSERT_EQ(c.n_matches, 1u);
        ASSERT_EQ(c.wildcards, 7u);
        vb_driver_choice_done(&c);
        vb_context_free(ctx);
        tree_free(dir);
}

TEST(no_index_is_vfio_pci_and_says_so) {
        _cleanup_free_ char *why = NULL;
        VbDriverChoice c = {};
        char *dir;
        VbContext *ctx = open_ctx("/nonexistent/lib/modules/0", &dir);

        choose(ctx, "vfio_pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00", &c);
        ASSERT_EQ(c.kind, VB_DRIVER_CHOICE_NO_INDEX);
        ASSERT_STREQ(c.driver, "vfio-pci");
        ASSERT_OK(vb_driver_choice_explain(&c, &why));
        ASSERT_TRUE(strstr(why, "no module index"));
        vb_driver_choice_done(&c);
        vb_context_free(ctx);
        tree_free(dir);
}

TEST(device_modalias_from_its_uevent) {
        VbDriverChoice c = {};
        VbPciAddress a;
        char *dir;
        VbContext *ctx = open_ctx(index_dir(), &dir);

        /* The desktop tree's GPU 1234:1111: only vfio_pci matches. */
        ASSERT_OK(vb_pci_address_parse("0000:01:00.0", &a));
        ASSERT_OK(vb_driver_choice_read(ctx, &a, &c));
        ASSERT_STREQ(c.alias, "vfio_pci:v00001234d00001111sv00001AF4sd00001100bc03sc00i00");
        ASSERT_EQ(c.kind, VB_DRIVER_CHOICE_PLAIN);
        vb_driver_choice_done(&c);
        vb_context_free(ctx);
        tree_free(dir);
}

TEST(module_and_driver_names_differ) {
        _cleanup_free_ char *sys = NULL, *cmd = NULL, *driver = NULL;
        char *dir;
        VbContext *ctx = open_ctx(index_dir(), &dir);

        /* pds_vfio_pci registers pds-vfio-pci: the link under module/ says so. */
        ASSERT_TRUE(asprintf(&cmd,
                             "mkdir -p %1$s/sys/bus/pci/drivers/pds-vfio-pci %1$s/sys/module/pds_vfio_pci/drivers && "
                             "ln -s ../../../bus/pci/drivers/pds-vfio-pci "
                             "%1$s/sys/module/pds_vfio_pci/drivers/pci:pds-vfio-pci",
                             dir) > 0);
        ASSERT_EQ(system(cmd), 0);
        ASSERT_OK(vb_driver_from_module(ctx, "pds_vfio_pci", &driver));
        ASSERT_STREQ(driver, "pds-vfio-pci");
        free(driver);
        driver = NULL;
        /* A module that is not loaded has no driver. */
        ASSERT_ERRNO(vb_driver_from_module(ctx, "virtio_vfio_pci", &driver), ENOENT);
        vb_context_free(ctx);
        tree_free(dir);
}

TEST(wildcards_and_text_index) {
        ASSERT_EQ(vb_modalias_wildcards("vfio_pci:v*d*sv*sd*bc*sc*i*"), 7u);
        ASSERT_EQ(vb_modalias_wildcards("vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*"), 5u);
        ASSERT_TRUE(vb_modalias_match("vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*",
                                      "vfio_pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00"));
        ASSERT_FALSE(vb_modalias_match("vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*",
                                       "vfio_pci:v00001AF4d00001042sv00001AF4sd00001100bc02sc00i00"));
}

/* The most specific choice for the virtio NIC's subsystem, from a copy of the test's index with
 * the files FIND_NAME matches deleted. */
static void choose_without(const char *find_name) {
        _cleanup_free_ char *copy = NULL, *cmd = NULL;
        VbDriverChoice c = {};
        VbContext *ctx;
        char *dir;

        ASSERT_TRUE(asprintf(&copy, "%s/index-without", getenv("TMPDIR") ?: "/tmp") > 0);
        ASSERT_TRUE(asprintf(&cmd, "rm -rf %s && cp -r %s %s && find %s -name '%s' -delete", copy, index_dir(), copy,
                             copy, find_name) > 0);
        ASSERT_EQ(system(cmd), 0);
        ctx = open_ctx(copy, &dir);
        choose(ctx, "vfio_pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00", &c);
        ASSERT_EQ(c.kind, VB_DRIVER_CHOICE_VARIANT);
        ASSERT_STREQ(c.module, "sub_vfio_pci");
        ASSERT_STREQ(c.pattern, "vfio_pci:v00001AF4d00001041sv00001AF4sd00001100bc*sc*i*");
        ASSERT_EQ(c.wildcards, 3u);
        ASSERT_EQ(c.n_matches, 3u);
        vb_driver_choice_done(&c);
        vb_context_free(ctx);
        tree_free(dir);
        free(cmd);
        ASSERT_TRUE(asprintf(&cmd, "rm -rf %s", copy) > 0);
        ASSERT_EQ(system(cmd), 0);
}

/* A module's patterns come from the index's text, not from the module file (whose modinfo libkmod
 * reads with its signature, decoded with libcrypto): with every .ko gone the choice is the same;
 * and an index without its text (the module files there) gives the same from each modinfo. */
TEST(patterns_come_from_the_index_not_the_module_files) {
        choose_without("*.ko");
        choose_without("modules.alias");
}

TESTS_MAIN()
