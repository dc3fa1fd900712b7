/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What vfio-bindd remembers of each device between passes: its state, what was logged last,
 * its failures (not tried again until it is added anew), a write that hangs. */
#include "manager-private.h"

static void device_state_done(DeviceState *d) {
        free(d->logged);
        free(d->sriov_logged);
        free(d->forced);
        d->stuck_source = sd_event_source_disable_unref(d->stuck_source);
        d->stuck = bind_job_unref(d->stuck);
}

void vbd_memory_clear(Manager *m) {
        for (size_t i = 0; i < m->n_devices; i++)
                device_state_done(&m->devices[i]);
        free(m->devices);
        m->devices = NULL;
        m->n_devices = m->devices_allocated = 0;
}

DeviceState *vbd_memory_find(Manager *m, const VbPciAddress *a, size_t *ret_index) {
        size_t i = VB_PCI_ADDRESS_LOWER_BOUND(m->devices, m->n_devices, address, a);

        if (i < m->n_devices && vb_pci_address_equal(&m->devices[i].address, a))
                return &m->devices[i];
        if (ret_index)
                *ret_index = i;
        return NULL;
}

/* The state of the device at A, created if new. The states are kept ordered by address, so a
 * pass over many devices stays O(n log n). The pointer is valid until the next call. */
DeviceState *vbd_memory_get(Manager *m, const VbPciAddress *a) {
        DeviceState *d;
        size_t lo = 0;

        d = vbd_memory_find(m, a, &lo);
        if (d)
                return d;
        if (!VB_GREEDY_REALLOC(m->devices, m->devices_allocated, m->n_devices + 1))
                return NULL;
        memmove(&m->devices[lo + 1], &m->devices[lo], (m->n_devices - lo) * sizeof(DeviceState));
        m->n_devices++;
        m->devices[lo] = (DeviceState) { .address = *a };
        return &m->devices[lo];
}

bool vbd_memory_has_failed(const DeviceState *s) {
        return s->failure.state == VB_DEVICE_FAILED || s->failure.state == VB_DEVICE_STUCK ||
               s->failure.state == VB_DEVICE_RESTORE_FAILED || s->stuck || s->sriov_failure.failed;
}

void vbd_memory_forget_failure(DeviceState *s) {
        s->failure = (DeviceFailure) {};
        s->sriov_failure = (SriovFailure) {};
}

/* Log TEXT for the device, and remember it as what was logged last for it. */
void vbd_memory_log(DeviceState *s, int priority, const VbdLogFields *f, const char *text) {
        vbd_log_full(priority, f, "%s: %s", VB_PCI_ADDRESS_STR(f->device), text);
        free(s->logged);
        s->logged = strdup(text);
}

/* Log TEXT for the device unless it is what was logged last for it: a state that passes find
 * again is said once. */
void vbd_memory_log_once(DeviceState *s, int priority, const VbdLogFields *f, const char *text) {
        if (!streq_ptr(s->logged, text))
                vbd_memory_log(s, priority, f, text);
}

bool vbd_memory_bound_in_initrd(const Manager *m, const VbPciAddress *a) {
        for (size_t i = 0; i < m->n_initrd_bound; i++)
                if (vb_pci_address_equal(&m->initrd_bound[i], a))
                        return true;
        return false;
}

/* The IOMMU groups of the devices of PLAN, sorted as vb_reach() wants them: which uevents concern
 * the daemon. */
int vbd_memory_remember_groups(Manager *m, const VbPlan *plan) {
        m->n_groups = 0;
        if (!VB_GREEDY_REALLOC(m->groups, m->groups_allocated, plan->n ?: 1))
                return -ENOMEM;
        for (size_t i = 0; i < plan->n; i++)
                if (plan->entries[i].iommu_group >= 0)
                        m->groups[m->n_groups++] = plan->entries[i].iommu_group;
        m->n_groups = vb_reach_groups_sort(m->groups, m->n_groups);
        return 0;
}

/* The devices whose bind failed before (remembered until they are added anew or a reload), and
 * of them those whose write still hangs. */
int vbd_memory_failed(Manager *m, VbPciAddress **ret, size_t *ret_n, VbPciAddress **ret_stuck, size_t *ret_n_stuck) {
        _cleanup_free_ VbPciAddress *l = NULL, *stuck = NULL;
        size_t n = 0, n_stuck = 0;

        l = malloc((m->n_devices ?: 1) * sizeof(VbPciAddress));
        stuck = malloc((m->n_devices ?: 1) * sizeof(VbPciAddress));
        if (!l || !stuck)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_devices; i++) {
                if (vbd_memory_has_failed(&m->devices[i]))
                        l[n++] = m->devices[i].address;
                if (m->devices[i].stuck)
                        stuck[n_stuck++] = m->devices[i].address;
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        *ret_stuck = TAKE_PTR(stuck);
        *ret_n_stuck = n_stuck;
        return 0;
}
