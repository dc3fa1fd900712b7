/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "iommu.h"
#include "load.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "pci.h"
#include "plan.h"
#include "platform.h"
#include "replay.h"
#include "snapshot.h"
#include "time-util.h"
#include "utf8.h"
#include "vb-config.h"
#include "vfio-bindd.h"

typedef struct Args {
        const char *config_path;
        const char *root;
        bool validate;
        bool dry_run;
        bool once;
        bool in_initrd;
} Args;

static void help(void) {
        printf("vfio-bindd [OPTIONS...]\n\n"
               "Binds the PCI devices selected in " VB_CONFIG_FILE
               " to vfio-pci (or the configured\n"
               "driver) early in boot, before host drivers take them, and keeps them there.\n\n"
               "  -h --help          Show this help\n"
               "     --version       Show the version\n"
               "     --config=PATH   Read PATH alone instead of " VB_CONFIG_FILE
               " and\n"
               "                     " VB_CONFIG_DROPIN_DIR
               "/*.conf\n"
               "     --validate      Check the configuration only (no /sys access): exit 0, or 1\n"
               "                     with FILE:LINE: errors on stderr\n"
               "     --dry-run       Print the plan against this machine and write nothing\n"
               "     --root=PATH     With --dry-run: plan against a dump (vfio-bind dump) instead\n"
               "                     of this machine\n"
               "     --once          Do the first pass, then exit (for the initrd)\n"
               "     --in-initrd     Run as the initrd's pass even without /etc/initrd-release\n"
               "                     (initramfs-tools): mark what ends on its driver for stage 2\n\n"
               "See the vfio-bindd(8) and vfio-bind.conf(5) manual pages for details.\n");
}

static int parse_argv(int argc, char **argv, Args *args) {
        enum {
                ARG_VERSION = 0x100,
                ARG_CONFIG,
                ARG_VALIDATE,
                ARG_DRY_RUN,
                ARG_ONCE,
                ARG_IN_INITRD,
                ARG_ROOT
        };
        static const struct option options[] = { { "help", no_argument, NULL, 'h' },
                                                 { "version", no_argument, NULL, ARG_VERSION },
                                                 { "config", required_argument, NULL, ARG_CONFIG },
                                                 { "validate", no_argument, NULL, ARG_VALIDATE },
                                                 { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                                                 { "once", no_argument, NULL, ARG_ONCE },
                                                 { "in-initrd", no_argument, NULL, ARG_IN_INITRD },
                                                 { "root", required_argument, NULL, ARG_ROOT },
                                                 {} };
        int c;

        for (int i = 1; i < argc; i++)
                if (strlen(argv[i]) > VB_ARGUMENT_MAX) {
                        fprintf(stderr, "vfio-bindd: argument %d is too long (%zu bytes, the limit is %d)\n", i,
                                strlen(argv[i]), VB_ARGUMENT_MAX);
                        return -EINVAL;
                }
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("vfio-bindd " PACKAGE_VERSION "\n");
                        return 0;
                case ARG_CONFIG:
                        if (!*optarg) {
                                fprintf(stderr, "vfio-bindd: --config= needs a path\n");
                                return -EINVAL;
                        }
                        args->config_path = optarg;
                        break;
                case ARG_VALIDATE:
                        args->validate = true;
                        break;
                case ARG_DRY_RUN:
                        args->dry_run = true;
                        break;
                case ARG_ONCE:
                        args->once = true;
                        break;
                case ARG_IN_INITRD:
                        args->in_initrd = true;
                        break;
                case ARG_ROOT:
                        if (!*optarg) {
                                fprintf(stderr, "vfio-bindd: --root= needs a path\n");
                                return -EINVAL;
                        }
                        args->root = optarg;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "vfio-bindd: unexpected argument %s\n", VB_QUOTE(argv[optind]));
                return -EINVAL;
        }
        if (args->validate + args->dry_run + args->once > 1) {
                fprintf(stderr, "vfio-bindd: --validate, --dry-run and --once exclude each other\n");
                return -EINVAL;
        }
        if (args->in_initrd && !args->once) {
                fprintf(stderr, "vfio-bindd: --in-initrd is for the initrd's pass and needs --once\n");
                return -EINVAL;
        }
        if (args->root && !args->dry_run) {
                fprintf(stderr,
                        "vfio-bindd: --root=%s is a dump of a machine, and only --dry-run reads one: the daemon "
                        "binds devices of this machine\n",
                        args->root);
                return -EINVAL;
        }
        return 1;
}

static void print_diagnostics(const VbDiagnostics *diag, bool log) {
        for (size_t i = 0; i < diag->n; i++) {
                if (log && (vbd_log_to_journal() || vbd_log_to_kmsg()))
                        vbd_log(LOG_ERR, "%s", diag->messages[i]);
                else
                        fprintf(stderr, "%s\n", diag->messages[i]);
        }
}

static int dry_run(VbContext *ctx, const VbConfig *c, const char *runtime_dir) {
        _cleanup_(vb_snapshot_done) VbSnapshot snap = {};
        _cleanup_free_ char *text = NULL;
        int r;

        r = vb_snapshot_take(ctx, c, runtime_dir, &snap);
        if (r >= 0)
                r = vb_plan_format(&snap.plan, true, &text);
        if (r < 0) {
                fprintf(stderr, "vfio-bindd: Failed to compute the plan: %s\n", strerror(-r));
                return 1;
        }
        printf("Dry run: nothing is written. Driver %s, Group=%s, UnbindHost=%s, Release=%s.\n%s", c->driver,
               vb_group_policy_to_string(c->group), c->unbind_host ? "yes" : "no",
               vb_release_policy_to_string(c->release), text);
        return 0;
}

int vbd_main(int argc, char **argv, const VbPlatform *platform) {
        _cleanup_(vb_replay_done) VbReplay replay = {};
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        VbPlatform replay_platform;
        _cleanup_(vb_config_freep) VbConfig *config = NULL;
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(manager_freep) Manager *m = NULL;
        Args args = {};
        int r;

        r = parse_argv(argc, argv, &args);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        vbd_log_open("vfio-bindd");

        if (args.validate) {
                /* Configuration only: no /sys, no /proc. */
                r = vb_config_load_all(NULL, args.config_path, &config, &diag);
                if (r < 0) {
                        print_diagnostics(&diag, false);
                        if (diag.n == 0)
                                fprintf(stderr, "vfio-bindd: Failed to load the configuration: %s\n", strerror(-r));
                        return 1;
                }
                if (!config->files || !config->files[0]) {
                        /* Nothing was read: say so rather than call a missing file valid. */
                        printf("no configuration: neither " VB_CONFIG_FILE " nor " VB_CONFIG_DROPIN_DIR
                               "/*.conf exists; nothing would be bound\n");
                        return 0;
                }
                for (char **f = config->files; *f; f++)
                        printf("%s%s", f == config->files ? "" : ", ", *f);
                printf(": valid: %zu selector%s, %zu VirtualFunctions= line%s, driver %s\n", config->n_selectors,
                       config->n_selectors == 1 ? "" : "s", config->n_vfs, config->n_vfs == 1 ? "" : "s",
                       config->driver);
                return 0;
        }

        if (args.root) {
                _cleanup_free_ char *error = NULL;

                r = vb_replay_open(args.root, &replay, &error);
                if (r < 0) {
                        fprintf(stderr, "vfio-bindd: --root=%s: %s\n", args.root, error ?: strerror(-r));
                        return 1;
                }
                replay_platform = vb_replay_platform(&replay);
                platform = &replay_platform;
        }

        r = vb_platform_open_context(platform, &ctx);
        if (r < 0) {
                vbd_log_full(LOG_ERR, &(VbdLogFields) { .error = r }, "Failed to open sysfs: %s", strerror(-r));
                (void) sd_notifyf(false, "STATUS=failed to open sysfs: %s\nERRNO=%d", strerror(-r), -r);
                /* Exiting at once: let journald read the entries while the process still exists,
                 * or they lose their unit (journalctl -u would not find them). */
                vbd_log_sync(3 * USEC_PER_SEC);
                return 1;
        }
        if (vbd_log_get_max_level() >= LOG_DEBUG)
                vb_context_set_log_fn(ctx, vbd_log_library, NULL);

        /* The whole configuration is validated before anything is written. */
        r = vb_config_load_all_at(ctx, vb_platform_config_root(platform), args.config_path, &config, &diag);
        if (r < 0) {
                print_diagnostics(&diag, true);
                vbd_log_full(LOG_ERR, &(VbdLogFields) { .error = r },
                             "the configuration is invalid, no device touched");
                (void) sd_notifyf(false, "STATUS=configuration invalid, no device touched: %s\nERRNO=%d",
                                  diag.n > 0 ? diag.messages[0] : strerror(-r), -r);
                vbd_log_sync(3 * USEC_PER_SEC);
                return 1;
        }

        if (args.dry_run)
                return dry_run(ctx, config, vb_platform_runtime_dir(platform));

        r = manager_new(&m,
                        &(ManagerOptions) {
                                .config_path = args.config_path,
                                .once = args.once,
                                .runtime_dir = vb_platform_runtime_dir(platform),
                                .in_initrd = args.in_initrd || vb_platform_in_initrd(platform),
                        },
                        TAKE_PTR(config), TAKE_PTR(ctx));
        if (r < 0) {
                vbd_log(LOG_ERR, "Out of memory");
                return 1;
        }
        return manager_run(m);
}
