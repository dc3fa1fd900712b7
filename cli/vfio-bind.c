/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>

#include "deadline.h"
#include "macro.h"
#include "replay.h"
#include "utf8.h"
#include "vb-config.h"
#include "verbs.h"
#include "vfio-bind.h"

static void help(void) {
        printf("vfio-bind [OPTIONS...] COMMAND ...\n\n"
               "Inspect and change which PCI devices are bound to vfio-pci for passthrough.\n\n"
               "Commands:\n"
               "  groups                 List IOMMU groups and their devices\n"
               "  status                 Show each configured device, its driver and group\n"
               "  check                  Validate the configuration against this machine\n"
               "                         before a reboot\n"
               "  bind ADDRESS           Bind one device (with --take-group its IOMMU group) to\n"
               "                         the configured driver now, as vfio-bindd would\n"
               "  release ADDRESS        Give one passed-through device (or its group) back to\n"
               "                         the host\n"
               "  dump FILE              Write what vfio-bind reads from this machine into the\n"
               "                         tar archive FILE (- for stdout), for a bug report\n\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --config=PATH       Read PATH instead of " VB_CONFIG_FILE
               " and its\n"
               "                         drop-ins\n"
               "     --root=PATH         Read a dump (the archive or a directory unpacked from it)\n"
               "                         instead of this machine (groups, status, check, dump)\n"
               "     --json              Print JSON (status)\n"
               "     --driver=NAME       Driver for bind (default: the configuration's Driver=)\n"
               "     --dry-run           Print the plan of bind or release, write nothing\n"
               "     --take-group        bind, release: every endpoint of the device's IOMMU group\n"
               "     --force             bind although the host uses the device (a mounted\n"
               "                         file system, swap, a network interface that is up,\n"
               "                         a program with its device nodes open); release\n"
               "                         although a program (a running VM) holds it\n"
               "     --release-console   bind the console's GPU although Release=no\n\n"
               "Exit status: 0 when everything is as it should be, 1 when not, 2 on bad usage,\n"
               "3 when a write of bind or release hangs past the deadline.\n"
               "See the vfio-bind(1), vfio-bind.conf(5) and vfio-bindd(8) manual pages.\n");
}

static int run(VbcArgs *a, const char *verb, int n, char **args) {
        if (streq(verb, "bind") || streq(verb, "release")) {
                if (n != 1) {
                        fprintf(stderr, "vfio-bind: %s needs one PCI address, e.g. 0000:01:00.0\n", verb);
                        return 2;
                }
                if (a->dry_run)
                        return streq(verb, "bind") ? vbc_bind(a, args[0]) : vbc_release(a, args[0]);
                /* no write may hang the command */
                return vbc_run_with_deadline(a, streq(verb, "bind") ? vbc_bind : vbc_release, args[0]);
        }
        if (streq(verb, "dump")) {
                if (n != 1) {
                        fprintf(stderr, "vfio-bind: dump needs one FILE (- for stdout)\n");
                        return 2;
                }
                return vbc_dump(a, args[0]);
        }
        if (n != 0) {
                fprintf(stderr, "vfio-bind: %s takes no arguments\n", verb);
                return 2;
        }
        if (streq(verb, "groups"))
                return vbc_groups(a);
        if (streq(verb, "status"))
                return vbc_status(a);
        return vbc_check(a);
}

/* --root=PATH: the verb reads the dump at PATH, never the machine. */
static int run_on_root(VbcArgs *a, const char *verb, int n, char **args) {
        _cleanup_(vb_replay_done) VbReplay replay = {};
        _cleanup_free_ char *error = NULL;
        VbPlatform p;
        int r;

        r = vb_replay_open(a->root, &replay, &error);
        if (r < 0) {
                _cleanup_free_ char *msg = NULL;

                if (asprintf(&msg, "--root=%s: %s", a->root, error ?: strerror(-r)) < 0)
                        msg = NULL;
                fprintf(stderr, "vfio-bind: %s\n", msg ?: "out of memory");
                if (a->json && msg)
                        vbc_status_json_failure(&msg, 1);
                return 1;
        }
        p = vb_replay_platform(&replay);
        a->platform = &p;
        return run(a, verb, n, args);
}

int vbc_main(int argc, char **argv, const VbPlatform *platform) {
        enum {
                ARG_VERSION = 0x100,
                ARG_CONFIG,
                ARG_JSON,
                ARG_DRIVER,
                ARG_FORCE,
                ARG_TAKE_GROUP,
                ARG_RELEASE_CONSOLE,
                ARG_DRY_RUN,
                ARG_ROOT
        };
        static const struct option options[] = { { "help", no_argument, NULL, 'h' },
                                                 { "version", no_argument, NULL, ARG_VERSION },
                                                 { "config", required_argument, NULL, ARG_CONFIG },
                                                 { "json", no_argument, NULL, ARG_JSON },
                                                 { "driver", required_argument, NULL, ARG_DRIVER },
                                                 { "force", no_argument, NULL, ARG_FORCE },
                                                 { "take-group", no_argument, NULL, ARG_TAKE_GROUP },
                                                 { "release-console", no_argument, NULL, ARG_RELEASE_CONSOLE },
                                                 { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                                                 { "root", required_argument, NULL, ARG_ROOT },
                                                 {} };
        VbcArgs a = { .platform = platform, .progress_fd = -1 };
        const char *verb;
        int c, n;

        for (int i = 1; i < argc; i++)
                if (strlen(argv[i]) > VB_ARGUMENT_MAX) {
                        fprintf(stderr, "vfio-bind: argument %d is too long (%zu bytes, the limit is %d)\n", i,
                                strlen(argv[i]), VB_ARGUMENT_MAX);
                        return 2;
                }
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("vfio-bind " PACKAGE_VERSION "\n");
                        return 0;
                case ARG_CONFIG:
                        if (!*optarg) {
                                fprintf(stderr, "vfio-bind: --config= needs a path\n");
                                return 2;
                        }
                        a.config_path = optarg;
                        break;
                case ARG_JSON:
                        a.json = true;
                        break;
                case ARG_FORCE:
                        a.force = true;
                        break;
                case ARG_TAKE_GROUP:
                        a.take_group = true;
                        break;
                case ARG_RELEASE_CONSOLE:
                        a.release_console = true;
                        break;
                case ARG_DRY_RUN:
                        a.dry_run = true;
                        break;
                case ARG_ROOT:
                        if (!*optarg) {
                                fprintf(stderr, "vfio-bind: --root= needs a path\n");
                                return 2;
                        }
                        a.root = optarg;
                        break;
                case ARG_DRIVER:
                        if (!vb_driver_name_is_valid(optarg)) {
                                fprintf(stderr, "vfio-bind: invalid driver name %s: %s\n", VB_QUOTE(optarg),
                                        vb_driver_name_problem(optarg));
                                return 2;
                        }
                        a.driver = optarg;
                        break;
                default:
                        return 2;
                }

        if (optind >= argc) {
                help();
                return 2;
        }
        verb = argv[optind];
        n = argc - optind - 1;

        if (a.json && !streq(verb, "status")) {
                fprintf(stderr, "vfio-bind: --json is only understood by status\n");
                return 2;
        }
        if ((a.driver || a.release_console) && !streq(verb, "bind")) {
                fprintf(stderr, "vfio-bind: --driver= and --release-console are only understood by bind\n");
                return 2;
        }
        if ((a.dry_run || a.force) && !streq(verb, "bind") && !streq(verb, "release")) {
                fprintf(stderr, "vfio-bind: --dry-run and --force are only understood by bind and release\n");
                return 2;
        }
        if (a.take_group && !streq(verb, "bind") && !streq(verb, "release")) {
                fprintf(stderr, "vfio-bind: --take-group is only understood by bind and release\n");
                return 2;
        }
        if (!streq(verb, "groups") && !streq(verb, "status") && !streq(verb, "check") && !streq(verb, "bind") &&
            !streq(verb, "release") && !streq(verb, "dump")) {
                fprintf(stderr, "vfio-bind: unknown command %s; see vfio-bind --help\n", VB_QUOTE(verb));
                return 2;
        }
        if (a.root && (streq(verb, "bind") || streq(verb, "release"))) {
                fprintf(stderr,
                        "vfio-bind: %s changes the machine, and --root=%s is a dump of one: only groups, status, "
                        "check and dump read a dump\n",
                        verb, a.root);
                return 2;
        }
        if (a.root)
                return run_on_root(&a, verb, n, argv + optind + 1);
        return run(&a, verb, n, argv + optind + 1);
}
