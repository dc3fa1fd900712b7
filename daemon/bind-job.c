/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <time.h>

#include "bind-job.h"
#include "macro.h"
#include "time-util.h"

struct BindJob {
        atomic_int ref;
        VbContext *ctx;
        VbPciAddress address;
        char *driver;
        bool unbind_host;
        bool sriov;            /* creating a PF's VFs (vb_sriov_enable()) instead of a bind */
        VbSriov sriov_attrs;   /* sriov: the PF's attributes as planned */
        unsigned count;        /* sriov: how many */
        uint64_t timeout_usec; /* sriov: how long the VFs may take to appear */
        int efd;

        pthread_mutex_t lock; /* protects the fields below */
        bool done;
        int r;
        VbBindResult result;
        VbSriovEnable sriov_result;
        char *inflight; /* the write in progress */
};

/* The job the current thread works for (NULL on the main thread). */
static __thread BindJob *current_job;

/* The kernel ops the tracker wraps, per context. One daemon has one context. */
typedef struct BindJobTracker {
        const VbKernelOps *inner;
        void *inner_userdata;
} Tracker;

static int tracked_write(void *userdata, int rootfd, const char *path, const char *value) {
        Tracker *t = userdata;
        BindJob *j = current_job;
        int r;

        if (j) {
                char *s = NULL;
                if (asprintf(&s, "writing \"%s\" to %s", value, path) < 0)
                        s = NULL;
                pthread_mutex_lock(&j->lock);
                free(j->inflight);
                j->inflight = s;
                pthread_mutex_unlock(&j->lock);
        }
        r = t->inner->write_attr(t->inner_userdata, rootfd, path, value);
        if (j) {
                pthread_mutex_lock(&j->lock);
                free(j->inflight);
                j->inflight = NULL;
                pthread_mutex_unlock(&j->lock);
        }
        return r;
}

static int tracked_load(void *userdata, VbContext *ctx, const char *driver) {
        Tracker *t = userdata;
        BindJob *j = current_job;
        int r;

        if (!t->inner->load_driver)
                return -EOPNOTSUPP;
        if (j) {
                char *s = NULL;
                if (asprintf(&s, "loading the module of %s", driver) < 0)
                        s = NULL;
                pthread_mutex_lock(&j->lock);
                free(j->inflight);
                j->inflight = s;
                pthread_mutex_unlock(&j->lock);
        }
        r = t->inner->load_driver(t->inner_userdata, ctx, driver);
        if (j) {
                pthread_mutex_lock(&j->lock);
                free(j->inflight);
                j->inflight = NULL;
                pthread_mutex_unlock(&j->lock);
        }
        return r;
}

/* Driver=auto's look-up in the module index: no write, nothing to track, but it must reach the
 * kernel's ops (without it every choice said "no module index to look the device up in"). */
static int tracked_find_aliases(void *userdata, VbContext *ctx, const char *alias, VbModaliasFn fn, void *fn_userdata) {
        Tracker *t = userdata;

        if (!t->inner->find_aliases)
                return -ENOENT;
        return t->inner->find_aliases(t->inner_userdata, ctx, alias, fn, fn_userdata);
}

/* The network interlock's addresses (getifaddrs()): a read, forwarded like the look-up above
 * (without it the daemon fell back to the main table's IPv4 routes: "up with 10.0.2.0/24"). */
static int tracked_read_addresses(void *userdata, char **ret) {
        Tracker *t = userdata;

        if (!t->inner->read_addresses)
                return -ENOENT;
        return t->inner->read_addresses(t->inner_userdata, ret);
}

static void tracked_drop_caches(void *userdata) {
        Tracker *t = userdata;

        if (t->inner->drop_caches)
                t->inner->drop_caches(t->inner_userdata);
}

/* No unref: the context keeps owning the kernel it was first given. */
static const VbKernelOps tracked_ops = {
        .write_attr = tracked_write,
        .load_driver = tracked_load,
        .find_aliases = tracked_find_aliases,
        .read_addresses = tracked_read_addresses,
        .drop_caches = tracked_drop_caches,
};

int bind_job_track_context(VbContext *ctx, BindJobTracker **ret) {
        Tracker *t;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        vb_context_get_kernel_ops(ctx, &t->inner, &t->inner_userdata);
        vb_context_set_kernel_ops(ctx, &tracked_ops, t);
        *ret = t;
        return 0;
}

BindJobTracker *bind_job_tracker_free(BindJobTracker *t) {
        /* A thread stuck in the kernel read the tracker before its write began; after the write it
         * touches only its own job, so freeing here is safe. */
        free(t);
        return NULL;
}

BindJob *bind_job_unref(BindJob *j) {
        if (!j)
                return NULL;
        if (atomic_fetch_sub(&j->ref, 1) != 1)
                return NULL;
        vb_bind_result_done(&j->result);
        vb_sriov_enable_done(&j->sriov_result);
        free(j->inflight);
        free(j->driver);
        closep(&j->efd);
        pthread_mutex_destroy(&j->lock);
        free(j);
        return NULL;
}

static void *job_thread(void *userdata) {
        BindJob *j = userdata;
        VbBindResult res = {};
        VbSriovEnable sres = {};
        uint64_t one = 1;
        int r;

        current_job = j;
        if (j->sriov)
                r = vb_sriov_enable(j->ctx, &j->address, &j->sriov_attrs, j->count, j->driver, j->timeout_usec, &sres);
        else
                r = vb_bind_device(j->ctx, &j->address, j->driver, j->unbind_host, &res);
        current_job = NULL;

        pthread_mutex_lock(&j->lock);
        j->r = r;
        j->result = res;
        j->sriov_result = sres;
        j->done = true;
        pthread_mutex_unlock(&j->lock);
        (void) !write(j->efd, &one, sizeof(one));
        bind_job_unref(j);
        return NULL;
}

static BindJob *job_new(VbContext *ctx, const VbPciAddress *a, const char *driver) {
        BindJob *j = calloc(1, sizeof(*j));

        if (!j)
                return NULL;
        atomic_init(&j->ref, 2); /* the caller's and the thread's */
        j->ctx = ctx;
        j->address = *a;
        j->driver = strdup(driver);
        j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        pthread_mutex_init(&j->lock, NULL);
        if (!j->driver || j->efd < 0) {
                atomic_store(&j->ref, 1);
                bind_job_unref(j);
                return NULL;
        }
        return j;
}

/* Start J's thread and wait for it until DEADLINE_USEC: 0 when it finished (the caller takes the
 * result and drops its reference), -ETIMEDOUT (J is handed to the caller as stuck), or the error
 * starting the thread (J is gone). */
static int job_start_and_wait(BindJob *j, uint64_t deadline_usec, BindJobKeepalive keepalive, void *userdata,
                              BindJob **ret_stuck) {
        pthread_attr_t attr;
        pthread_t thread;
        int r;

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = pthread_create(&thread, &attr, job_thread, j);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                atomic_store(&j->ref, 1);
                bind_job_unref(j);
                return -r;
        }

        for (;;) {
                struct pollfd pfd = { .fd = j->efd, .events = POLLIN };
                uint64_t now = vb_now_usec();
                int timeout_ms;

                if (bind_job_done(j))
                        return 0;
                if (now >= deadline_usec) {
                        *ret_stuck = j;
                        return -ETIMEDOUT;
                }
                timeout_ms = (int) ((deadline_usec - now + 999) / 1000);
                if (timeout_ms > 1000)
                        timeout_ms = 1000;
                (void) poll(&pfd, 1, timeout_ms);
                if (keepalive)
                        keepalive(userdata);
        }
}

int bind_job_run(VbContext *ctx, const VbPciAddress *a, const char *driver, bool unbind_host, uint64_t deadline_usec,
                 BindJobKeepalive keepalive, void *userdata, int *ret_r, VbBindResult *ret_result,
                 BindJob **ret_stuck) {
        BindJob *j;
        int r;

        j = job_new(ctx, a, driver);
        if (!j)
                return -ENOMEM;
        j->unbind_host = unbind_host;
        r = job_start_and_wait(j, deadline_usec, keepalive, userdata, ret_stuck);
        if (r < 0)
                return r;

        pthread_mutex_lock(&j->lock);
        *ret_r = j->r;
        *ret_result = j->result;
        j->result = (VbBindResult) {};
        pthread_mutex_unlock(&j->lock);
        bind_job_unref(j);
        return 0;
}

int bind_job_run_sriov(VbContext *ctx, const VbPciAddress *pf, const VbSriov *s, unsigned count, const char *driver,
                       uint64_t timeout_usec, uint64_t deadline_usec, BindJobKeepalive keepalive, void *userdata,
                       int *ret_r, VbSriovEnable *ret_result, BindJob **ret_stuck) {
        BindJob *j;
        int r;

        j = job_new(ctx, pf, driver);
        if (!j)
                return -ENOMEM;
        j->sriov = true;
        j->sriov_attrs = *s;
        j->count = count;
        j->timeout_usec = timeout_usec;
        r = job_start_and_wait(j, deadline_usec, keepalive, userdata, ret_stuck);
        if (r < 0)
                return r;

        pthread_mutex_lock(&j->lock);
        *ret_r = j->r;
        *ret_result = j->sriov_result;
        j->sriov_result = (VbSriovEnable) {};
        pthread_mutex_unlock(&j->lock);
        bind_job_unref(j);
        return 0;
}

char *bind_job_describe(BindJob *j) {
        char *s;

        pthread_mutex_lock(&j->lock);
        s = strdup(j->inflight ?: "between two writes");
        pthread_mutex_unlock(&j->lock);
        return s;
}

int bind_job_fd(BindJob *j) {
        return j->efd;
}

bool bind_job_done(BindJob *j) {
        bool done;

        pthread_mutex_lock(&j->lock);
        done = j->done;
        pthread_mutex_unlock(&j->lock);
        return done;
}

const VbPciAddress *bind_job_address(BindJob *j) {
        return &j->address;
}
