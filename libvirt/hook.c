/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "alloc-util.h"
#include "diagnostics.h"
#include "hook.h"
#include "libvirt-domain.h"
#include "load.h"
#include "macro.h"
#include "pci.h"
#include "plan.h"
#include "release-plan.h"
#include "runtime.h"
#include "snapshot.h"

/* What the CLI may say about one device: more is cut (it says a few lines). */
#define CLI_OUTPUT_MAX (256 * 1024)

static const struct {
        const char *operation;
        const char *suboperation;
        VbhAction action;
} action_table[] = {
        { "prepare", "begin", VBH_TAKE },
        { "release", "end", VBH_GIVE_BACK },
};

static const char *const action_names[_VBH_ACTION_MAX] = {
        [VBH_NOTHING] = "nothing",
        [VBH_TAKE] = "take",
        [VBH_GIVE_BACK] = "give-back",
};

VbhAction vbh_action_for(const char *operation, const char *suboperation) {
        for (size_t i = 0; i < ELEMENTSOF(action_table); i++)
                if (streq(operation, action_table[i].operation) && streq(suboperation, action_table[i].suboperation))
                        return action_table[i].action;
        return VBH_NOTHING;
}

const char *vbh_action_to_string(VbhAction a) {
        return a >= 0 && a < _VBH_ACTION_MAX ? action_names[a] : NULL;
}

typedef struct Hook {
        const VbhSetup *setup;
        const char *domain;
        char operation[64]; /* "prepare begin" */
} Hook;

static void hook_log(const Hook *h, int priority, const char *fmt, ...) _printf_(3, 4);
static void hook_log(const Hook *h, int priority, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        h->setup->log(h->setup, priority, h->domain, h->operation, m);
}

/* The one line libvirt shows when the start is aborted (it reads the hook's stderr). */
static void hook_fail_line(const Hook *h, const char *what) {
        fprintf(stderr, "vfio-bind: %s: %s\n", h->domain, what);
}

/* Drain FD (an operation the hook ignores: libvirtd writes the XML all the same). */
static void drain(int fd) {
        char buf[16384];

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n > 0 || (n < 0 && errno == EINTR))
                        continue;
                return;
        }
}

typedef struct Output {
        char *text;
        size_t size;
        size_t allocated;
} Output;

/* Read OUT_FD and ERR_FD until both end (or are cut at CLI_OUTPUT_MAX). */
static int read_both(int out_fd, int err_fd, Output *out, Output *err) {
        struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN }, { .fd = err_fd, .events = POLLIN } };
        Output *o[2] = { out, err };

        while (p[0].fd >= 0 || p[1].fd >= 0) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (size_t i = 0; i < 2; i++) {
                        char buf[4096];
                        ssize_t n;

                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        n = read(p[i].fd, buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                p[i].fd = -1;
                                continue;
                        }
                        if (o[i]->size + (size_t) n > CLI_OUTPUT_MAX)
                                continue;
                        if (!VB_GREEDY_REALLOC(o[i]->text, o[i]->allocated, o[i]->size + (size_t) n + 1))
                                return -ENOMEM;
                        memcpy(o[i]->text + o[i]->size, buf, (size_t) n);
                        o[i]->size += (size_t) n;
                        o[i]->text[o[i]->size] = 0;
                }
        }
        return 0;
}

/* The CLI's advice names its own flags, which libvirt cannot pass through the hook: what the
 * hook's user can do instead. */
static const struct {
        const char *cli;
        const char *hook;
} hint_table[] = {
        { "; --release-console releases the console first, --force binds it anyway",
          "; Release=auto in vfio-bind.conf releases the console first" },
        { "; --take-group binds every endpoint of the group",
          "; give the domain every function of the group, or set Group=take in vfio-bind.conf" },
        { "; --force binds it anyway",
          "; [Handoff] StopUnits= in vfio-bind.conf lets a unit's program be stopped first" },
};

/* LINE with the CLI's advice put in the hook's words, into a new string (NULL: out of memory). */
static char *hook_words(const char *line) {
        for (size_t i = 0; i < ELEMENTSOF(hint_table); i++) {
                const char *at = strstr(line, hint_table[i].cli);
                char *s;

                if (!at)
                        continue;
                if (asprintf(&s, "%.*s%s%s", (int) (at - line), line, hint_table[i].hook,
                             at + strlen(hint_table[i].cli)) < 0)
                        return NULL;
                return s;
        }
        return strdup(line);
}

/* Log each line of TEXT (what the CLI said about ADDRESS: a line that names no device gets its
 * address in front); the first of stderr that is not a warning goes to *FIRST_ERROR. */
static void log_lines(const Hook *h, const VbPciAddress *address, char *text, bool is_stderr, char **first_error) {
        for (char *line = text, *next; line && *line; line = next) {
                _cleanup_free_ char *words = NULL;
                const char *w;
                VbPciAddress a;
                int prio = LOG_INFO;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (!*line)
                        continue;
                w = startswith(line, "vfio-bind: ") ?: line;
                words = hook_words(w);
                if (!words)
                        return;
                if (is_stderr) {
                        prio = startswith(words, "warning:") ? LOG_WARNING : LOG_ERR;
                        if (prio == LOG_ERR && first_error && !*first_error)
                                *first_error = strdup(words);
                }
                {
                        /* "0000:01:00.0: …" names its device; "IOMMU group 5: …", "console: …" do not */
                        char head[VB_PCI_ADDRESS_MAX] = "";
                        const char *colon = strstr(words, ": ");

                        if (colon && (size_t) (colon - words) < sizeof(head))
                                memcpy(head, words, (size_t) (colon - words));
                        if (vb_pci_address_parse(head, &a) >= 0)
                                hook_log(h, prio, "%s", words);
                        else
                                hook_log(h, prio, "%s: %s", VB_PCI_ADDRESS_STR(address), words);
                }
        }
}

/* Run the CLI: VERB [--take-group] ADDRESS. Its exit status, or -errno; *RET_ERROR: the first
 * error it printed (NULL: none). */
static int run_cli(const Hook *h, const char *verb, bool take_group, const VbPciAddress *a, char **ret_error) {
        _cleanup_free_ char *config_arg = NULL;
        _cleanup_close_ int out_r = -EBADF, out_w = -EBADF, err_r = -EBADF, err_w = -EBADF;
        _cleanup_free_ char *first_error = NULL;
        Output out = {}, err = {};
        char address[VB_PCI_ADDRESS_MAX];
        const char *argv[6];
        size_t n = 0;
        int fds[2], status, r;
        pid_t pid;

        argv[n++] = h->setup->cli;
        if (h->setup->config_path) {
                if (asprintf(&config_arg, "--config=%s", h->setup->config_path) < 0)
                        return -ENOMEM;
                argv[n++] = config_arg;
        }
        argv[n++] = verb;
        if (take_group)
                argv[n++] = "--take-group";
        argv[n++] = vb_pci_address_format(a, address);
        argv[n] = NULL;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        out_r = fds[0], out_w = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        err_r = fds[0], err_w = fds[1];

        hook_log(h, LOG_DEBUG, "running %s %s%s %s", h->setup->cli, verb, take_group ? " --take-group" : "", address);
        pid = h->setup->spawn(h->setup, (char *const *) argv, out_w, err_w);
        if (pid < 0)
                return pid;
        close(TAKE_FD(out_w));
        close(TAKE_FD(err_w));
        r = read_both(out_r, err_r, &out, &err);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        break;
                }
        log_lines(h, a, out.text, false, NULL);
        log_lines(h, a, err.text, true, &first_error);
        free(out.text);
        free(err.text);
        if (r < 0)
                return r;
        if (ret_error)
                *ret_error = TAKE_PTR(first_error);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The addresses of the domain's PCI host devices with managed='no', each once; the others are
 * said and left to libvirt. */
static int targets(const Hook *h, const VbLibvirtDomain *d, VbPciAddress **ret, size_t *ret_n) {
        _cleanup_free_ VbPciAddress *l = calloc(d->n_hostdevs ?: 1, sizeof(VbPciAddress));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                const VbHostdev *x = &d->hostdevs[i];
                _cleanup_free_ char *what = vb_hostdev_describe(x);
                bool seen = false;

                if (x->kind != VB_HOSTDEV_PCI) {
                        hook_log(h, LOG_INFO,
                                 "%s (line %u): not a PCI device that vfio-bind hands over; left to libvirt",
                                 strna(what), x->line);
                        continue;
                }
                if (x->managed) {
                        hook_log(h, LOG_INFO,
                                 "%s (line %u): libvirt detaches and reattaches it itself (managed='yes'); left to "
                                 "libvirt",
                                 strna(what), x->line);
                        continue;
                }
                for (size_t j = 0; j < n; j++)
                        seen |= vb_pci_address_equal(&l[j], &x->address);
                if (!seen)
                        l[n++] = x->address;
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

/* One run of the CLI: ADDRESS, with --take-group when the domain has every endpoint of its group
 * (or Group=take says so). */
typedef struct Call {
        VbPciAddress address;
        bool take_group;
        bool was_passed; /* passed through before this hook ran: a failed start leaves it so */
        bool failed;     /* release end: the release failed, and its marks stay */
} Call;

static bool in_list(const VbPciAddress *l, size_t n, const VbPciAddress *a) {
        for (size_t i = 0; i < n; i++)
                if (vb_pci_address_equal(&l[i], a))
                        return true;
        return false;
}

/* Does the domain (L, N) have every endpoint of D's IOMMU group? */
static bool has_whole_group(const VbSnapshot *s, const VbPciDevice *d, const VbPciAddress *l, size_t n) {
        if (d->iommu_group < 0)
                return false;
        for (size_t i = 0; i < s->devices.n; i++) {
                const VbPciDevice *m = &s->devices.devices[i];

                if (m->iommu_group == d->iommu_group && !vb_pci_device_is_bridge(m) && !in_list(l, n, &m->address))
                        return false;
        }
        return true;
}

/* The runs of the CLI for ACTION on the targets L (N): one per group the domain has whole, one
 * per device otherwise; at release end none for what the configuration binds or what is back
 * already. Returns the number of calls in *RET, or -ENODEV (prepare: a device is missing; said),
 * -ENOMEM. */
static int plan_calls(const Hook *h, VbhAction action, const VbConfig *c, const VbSnapshot *s, const VbPciAddress *l,
                      size_t n, const VbPciAddress *taken, size_t n_taken, Call **ret, size_t *ret_n) {
        _cleanup_free_ Call *calls = calloc(n ?: 1, sizeof(Call));
        size_t k = 0;

        if (!calls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *a = VB_PCI_ADDRESS_STR(&l[i]);
                const VbPciDevice *d = vb_pci_list_find(&s->devices, &l[i]);
                const VbPlanEntry *e = action == VBH_GIVE_BACK ? vb_plan_find(&s->plan, &l[i])
                                                               : NULL; /* vfio-bindd's? */
                bool covered = false;

                if (!d && action == VBH_TAKE) {
                        hook_log(h, LOG_ERR, "%s: no such PCI device; nothing was written", a);
                        fprintf(stderr, "vfio-bind: %s: %s: no such PCI device; nothing was written\n", h->domain, a);
                        return -ENODEV;
                }
                if (!d) {
                        hook_log(h, LOG_WARNING, "%s: no such PCI device (gone); nothing to give back", a);
                        continue;
                }
                if (e && (e->action == VB_ACTION_BIND || e->action == VB_ACTION_LEAVE)) {
                        hook_log(h, LOG_INFO, "%s: stays on %s: the configuration binds it, and vfio-bindd keeps it", a,
                                 d->driver ?: "no driver");
                        continue;
                }
                if (action == VBH_GIVE_BACK) {
                        bool was_taken = in_list(taken, n_taken, &l[i]), passed = vb_release_is_passed_through(d);

                        if (!was_taken && passed)
                                hook_log(h, LOG_INFO,
                                         "%s: stays on %s: it was passed through before the domain started, not by "
                                         "this hook (vfio-bind release %s gives it back)",
                                         a, d->driver ?: "no driver", a);
                        else if (!was_taken)
                                hook_log(h, LOG_INFO, "%s: not passed through (on %s); nothing to give back", a,
                                         d->driver ?: "no driver");
                        else if (!passed)
                                hook_log(h, LOG_INFO, "%s: given back already (on %s); nothing written", a,
                                         d->driver ?: "no driver");
                        if (!was_taken || !passed)
                                continue;
                }
                for (size_t j = 0; j < k; j++) {
                        const VbPciDevice *o = vb_pci_list_find(&s->devices, &calls[j].address);

                        covered |= calls[j].take_group && o && d->iommu_group >= 0 && o->iommu_group == d->iommu_group;
                }
                if (covered) {
                        hook_log(h, LOG_DEBUG, "%s: with its IOMMU group %d", a, d->iommu_group);
                        continue;
                }
                calls[k++] = (Call) {
                        .address = l[i],
                        .take_group = has_whole_group(s, d, l, n) || c->group == VB_GROUP_TAKE,
                        .was_passed = vb_release_is_passed_through(d),
                };
        }
        *ret = TAKE_PTR(calls);
        *ret_n = k;
        return 0;
}

/* Run VERB for CALL; a failure is logged and its one line goes to stderr. Returns 0 or what
 * run_cli() returned. */
static int run_call(const Hook *h, const char *verb, const Call *call) {
        _cleanup_free_ char *error = NULL;
        const char *a = VB_PCI_ADDRESS_STR(&call->address);
        int r;

        r = run_cli(h, verb, call->take_group, &call->address, &error);
        if (r == 0)
                return 0;
        if (r < 0)
                hook_log(h, LOG_ERR, "%s: running %s failed: %s", a, h->setup->cli, strerror(-r));
        if (error)
                hook_fail_line(h, error);
        else
                fprintf(stderr, "vfio-bind: %s: vfio-bind %s %s failed (%s %d)\n", h->domain, verb, a,
                        r < 0 ? "error" : "exit", r < 0 ? -r : r);
        return r;
}

/* prepare begin: bind in order; on a failure give back what this hook took, and fail. */
static int take(const Hook *h, const Call *calls, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (run_call(h, "bind", &calls[i]) == 0)
                        continue;
                for (size_t j = i; j-- > 0;)
                        if (!calls[j].was_passed) {
                                hook_log(h, LOG_NOTICE, "%s: giving it back: the start is aborted",
                                         VB_PCI_ADDRESS_STR(&calls[j].address));
                                (void) run_cli(h, "release", calls[j].take_group, &calls[j].address, NULL);
                        }
                return 1;
        }
        return 0;
}

/* release end: give back each; a failure is said and the others are given back all the same. */
static int give_back(const Hook *h, Call *calls, size_t n) {
        int ret = 0;

        for (size_t i = 0; i < n; i++)
                if (run_call(h, "release", &calls[i]) != 0) {
                        calls[i].failed = true;
                        ret = 1;
                }
        return ret;
}

/* Mark (SET) what the CALLS take that is not passed through now (with --take-group: every
 * endpoint of the group), or clear the marks of all they name but a failed release's (a VM
 * that still holds it: its own release gives it back). A mark that cannot be written is
 * said: the domain's release will leave that device on its VFIO driver. */
static void mark_taken(const Hook *h, const char *dir, const VbSnapshot *s, const Call *calls, size_t n, bool set) {
        for (size_t i = 0; i < n; i++) {
                const VbPciDevice *d = vb_pci_list_find(&s->devices, &calls[i].address);

                for (size_t j = 0; j < s->devices.n; j++) {
                        const VbPciDevice *m = &s->devices.devices[j];
                        bool member = vb_pci_address_equal(&m->address, &calls[i].address) ||
                                      (calls[i].take_group && d && d->iommu_group >= 0 &&
                                       m->iommu_group == d->iommu_group && !vb_pci_device_is_bridge(m));
                        int r;

                        if (!member || (set && vb_release_is_passed_through(m)) || calls[i].failed)
                                continue;
                        r = vb_runtime_set(dir, VB_MARK_LIBVIRT, &m->address, set);
                        if (r < 0)
                                hook_log(h, LOG_WARNING, "%s: Failed to %s %s/libvirt/%s: %s%s",
                                         VB_PCI_ADDRESS_STR(&m->address), set ? "write" : "remove", dir,
                                         VB_PCI_ADDRESS_STR(&m->address), strerror(-r),
                                         set ? "; the domain's release will not give it back" : ", ignoring");
                        /* The release mark `vfio-bind release` left keeps vfio-bindd away from a
                         * device the configuration reaches; for one it does not reach it would only
                         * say "released by hand" once the configuration names it. */
                        if (!set && !vb_plan_find(&s->plan, &m->address)) {
                                r = vb_runtime_set_released(dir, &m->address, false);
                                if (r < 0)
                                        hook_log(h, LOG_WARNING, "%s: Failed to remove its release mark: %s, ignoring",
                                                 VB_PCI_ADDRESS_STR(&m->address), strerror(-r));
                        }
                }
        }
}

int vbh_main(int argc, char **argv, const VbhSetup *setup) {
        _cleanup_(vb_libvirt_domain_done) VbLibvirtDomain dom = {};
        _cleanup_(vb_diagnostics_clear) VbDiagnostics diag = {};
        _cleanup_(vb_context_freep) VbContext *ctx = NULL;
        _cleanup_(vb_config_freep) VbConfig *c = NULL;
        _cleanup_(vb_snapshot_done) VbSnapshot s = {};
        _cleanup_free_ VbPciAddress *l = NULL;
        _cleanup_free_ VbPciAddress *taken = NULL;
        _cleanup_free_ Call *calls = NULL;
        _cleanup_free_ char *error = NULL;
        const char *runtime_dir = vb_platform_runtime_dir(setup->platform);
        Hook h = { .setup = setup };
        VbhAction action;
        size_t n = 0, n_calls = 0, n_taken = 0;
        int r;

        if (argc < 4) {
                fprintf(stderr,
                        "vfio-bind: this is libvirt's hook: libvirtd runs it as DOMAIN OPERATION SUBOPERATION "
                        "EXTRA with the domain's XML on stdin (install it as /etc/libvirt/hooks/qemu.d/vfio-bind)\n");
                return 2;
        }
        h.domain = argv[1];
        (void) snprintf(h.operation, sizeof(h.operation), "%s %s", argv[2], argv[3]);
        action = vbh_action_for(argv[2], argv[3]);
        if (action == VBH_NOTHING) {
                drain(setup->stdin_fd);
                return 0;
        }

        r = vb_libvirt_domain_read_fd(setup->stdin_fd, "stdin", &dom, &error);
        if (r < 0) {
                _cleanup_free_ char *why = NULL;

                if (asprintf(&why, "the domain XML cannot be read: %s; nothing was written", error ?: strerror(-r)) < 0)
                        return 1;
                hook_log(&h, LOG_ERR, "%s", why);
                hook_fail_line(&h, why);
                return 1;
        }
        r = targets(&h, &dom, &l, &n);
        if (r < 0)
                return 1;
        if (n == 0) {
                hook_log(&h, LOG_DEBUG, "no PCI host device with managed='no': nothing for vfio-bind to do");
                return 0;
        }

        /* The configuration (Group=, and which devices are vfio-bindd's), then one look. */
        r = vb_platform_open_context(setup->platform, &ctx);
        if (r >= 0)
                r = vb_config_load_all_at(ctx, vb_platform_config_root(setup->platform), setup->config_path, &c, &diag);
        if (r < 0) {
                for (size_t i = 0; i < diag.n; i++)
                        hook_log(&h, LOG_ERR, "%s", diag.messages[i]);
                hook_log(&h, LOG_ERR, "the configuration cannot be used: %s; nothing was written",
                         diag.n ? diag.messages[0] : strerror(-r));
                hook_fail_line(&h, diag.n ? diag.messages[0] : "the configuration cannot be read");
                return 1;
        }
        r = vb_snapshot_read(ctx, vb_platform_runtime_dir(setup->platform), &s);
        if (r >= 0)
                r = vb_snapshot_read_reach(ctx, c, &s);
        if (r >= 0)
                r = vb_snapshot_plan(c, &s);
        if (r < 0) {
                hook_log(&h, LOG_ERR, "Failed to look at the PCI devices: %s; nothing was written", strerror(-r));
                hook_fail_line(&h, "cannot look at the PCI devices");
                return 1;
        }
        if (action == VBH_GIVE_BACK) {
                r = vb_runtime_list(runtime_dir, VB_MARK_LIBVIRT, &taken, &n_taken);
                if (r < 0) {
                        hook_log(&h, LOG_ERR, "Failed to read what the hook took (%s/libvirt): %s; nothing was written",
                                 runtime_dir, strerror(-r));
                        return 1;
                }
        }
        r = plan_calls(&h, action, c, &s, l, n, taken, n_taken, &calls, &n_calls);
        if (r < 0)
                return 1;
        if (action == VBH_GIVE_BACK) {
                r = give_back(&h, calls, n_calls);
                mark_taken(&h, runtime_dir, &s, calls, n_calls, false);
                return r;
        }
        /* What this start takes is marked before it is bound, so that the domain's release gives
         * back that and nothing else, even after a crash in between. */
        mark_taken(&h, runtime_dir, &s, calls, n_calls, true);
        r = take(&h, calls, n_calls);
        if (r != 0)
                mark_taken(&h, runtime_dir, &s, calls, n_calls, false);
        return r;
}
