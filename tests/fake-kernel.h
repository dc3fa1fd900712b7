/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A fake kernel for the unit tests and the daemon test program: it plays the kernel's part on a
 * copied fake tree (tests/sysfs/<case>/, see tests/tree.h), strictly enough that a wrong write
 * order, a module name where a driver name belongs ("vfio_pci"), or a missing probe fails a
 * test.
 *
 * Installed on a context with fake_kernel_install(), it receives every VbKernelOps call:
 *
 *   bus/pci/devices/ADDR/driver_override   stores the value; "" or "\n" clears ("(null)")
 *   bus/pci/drivers/D/unbind ADDR          unbinds if D holds ADDR, else -ENODEV
 *   bus/pci/drivers/D/bind ADDR            -EBUSY if bound, -ENODEV if D does not match
 *                                          (the override names another driver, no match line)
 *   bus/pci/drivers_probe ADDR             -ENODEV if no such device; binds the override's
 *                                          driver, or else the first matching host driver;
 *                                          succeeds even when nothing bound, like the kernel
 *   bus/pci/devices/PF/sriov_numvfs N      sriov_numvfs_store(): N as kstrtou16(…, 0) reads it
 *                                          (decimal, 0x hex, 0 octal, one newline) else -EINVAL;
 *                                          N > sriov_totalvfs -ERANGE; N == sriov_numvfs: 0,
 *                                          nothing changes; PF unbound (or on vfio, whose
 *                                          enable_sriov is off) -ENOENT; N == 0 removes the VFs;
 *                                          VFs already there -EBUSY; else creates VFs 0..N-1
 *   bus/pci/devices/PF/sriov_drivers_autoprobe  kstrtobool(): y/Y/1/on store 1, n/N/0/off 0,
 *                                          else -EINVAL
 *   sriov_totalvfs, _offset, _stride, _vf_device  read-only (-EACCES)
 *   new_id, remove_id anywhere             recorded as a violation (never to be written)
 *   class/vtconsole/vtconN/bind 0|1        "(S)" consoles cannot be unbound (-EINVAL)
 *   bus/platform/drivers/D/{bind,unbind}   the boot framebuffer's platform device
 *   anything else                          written if it is an existing regular file
 *   load_driver(D)                         0 if bus/pci/drivers/D exists; a "module" line
 *                                          (D its driver or module name) creates it and
 *                                          attaches it to every unbound device it matches
 *                                          (returns 1); else -ENOENT
 *   find_aliases(A)                        the "alias" lines whose pattern matches A
 *
 * An empty write reaches no store method (sysfs_kf_write()) for the two SR-IOV attributes: 0,
 * nothing changes.
 *
 * vfio drivers (names starting with "vfio") refuse bridges (header type != 0, -EINVAL), PFs
 * whose sriov_numvfs is not 0 (-EBUSY, "Cannot bind to PF with SR-IOV enabled") and devices
 * without an IOMMU group (-EINVAL), like vfio-pci's probe.
 *
 * SR-IOV (drivers/pci/iov.c): a PF is a device with sriov_* attributes in the tree (make-trees.sh
 * writes sriov_totalvfs, sriov_numvfs 0, sriov_offset, sriov_stride, sriov_vf_device in hex
 * without 0x, sriov_drivers_autoprobe 1); the kernel reads them as it reads the capability, and
 * a "sriov" line adds what sysfs does not say (the VFs' IOMMU groups). VF i is at routing ID
 * bus << 8 | devfn + offset + i * stride of the PF's domain (the bus grows when devfn overflows;
 * beyond bus 0xff -ENOMEM), a directory next to the PF under its parent, with vendor, class and
 * subsystem IDs of the PF, device = sriov_vf_device, driver_override "(null)", config (the PF's
 * with vendor and device ID reading 0xffff, as a VF's do, and header type 0), 13 resource lines
 * (BAR j: slice i of the PF's VF BAR j, its resource line 7 + j), uevent, subsystem and
 * bus/pci/devices links, iommu_group (the group is created if new), physfn → PF and the PF's
 * virtfnI → VF. Each VF is probed as it is added. pci_device_can_probe(): a VF whose PF has
 * sriov_drivers_autoprobe 0 is probed by no driver unless its driver_override is set (a bind
 * without override is -ENODEV; a drivers_probe binds nothing). sriov_numvfs is set once all VFs
 * are added. Removing VFs (N = 0, the PF's driver unbound, the PF unplugged or vanished) goes
 * from the last VF to the first: links, driver, group (a group goes with its last device, for
 * every device), directory. Unbinding a PF's driver disables SR-IOV first (igb_remove()), unless
 * a "keep-vfs" line says the driver leaves it enabled (nvme); removing a PF always removes its
 * VFs first. Not modelled: the KOBJ_CHANGE uevent, a VF busy in vfio blocking its removal,
 * sriov_vf_total_msix, bus number ranges of bridges. Paths are resolved like the kernel's VFS does
 * (so ".../devices/ADDR/driver/unbind" reaches the driver's unbind), the last component is not
 * followed (the library opens with O_NOFOLLOW).
 *
 * The case's fake-kernel.conf says what the drivers of the machine do, one rule a line:
 *
 *   match VVVV:DDDD DRIVER   DRIVER binds that ID on probe when no override names another
 *   module DRIVER [MODULE]   a loadable module (called MODULE, else DRIVER with '_' for '-'), not
 *                            loaded yet; loading it by either name registers DRIVER and links
 *                            module/MODULE/drivers/pci:DRIVER
 *   alias PATTERN MODULE     a line of the module index (modules.alias); vfio_pci's own
 *                            "vfio_pci:v*d*sv*sd*bc*sc*i*" is always there
 *   no-module-index          there is no module index at all (find_aliases is -ENOENT)
 *   builtin DRIVER           present already (its directory is created if missing)
 *   refuse DRIVER ADDR       DRIVER's probe fails for ADDR
 *   fail PATH ERRNO [N]      writing PATH (relative to sys/, as written or normalized) fails
 *                            with -ERRNO (a name like EIO or a number), N times or always
 *   vanish ADDR PATH         the device ADDR disappears when PATH is written
 *   hang PATH MSEC           a write to PATH (as written) returns only after MSEC ms, like a
 *                            driver stuck in its probe or remove (other writes go on)
 *   hotplug ADDR PARENT GROUP  hotplug/ADDR/ holds a device fake_kernel_plug() adds under
 *                            the bridge PARENT, in IOMMU group GROUP (-1: none); it may be a PF
 *   sriov ADDR FIRST_GROUP   the PF ADDR's VF i joins IOMMU group FIRST_GROUP + i; "pf": the
 *                            PF's group; -1: none. The last line for ADDR counts. Writing
 *                            sriov_numvfs of a PF without one fails with -EIO
 *   keep-vfs DRIVER          DRIVER's remove leaves SR-IOV enabled (nvme_remove() does);
 *                            other PF drivers disable it when unbound (igb_remove() does)
 *   kill-after PATH [N]      the process making the N-th (default first) write of PATH (as
 *                            written or normalized; "load:DRIVER" for loading DRIVER) is
 *                            killed with SIGKILL right after the write took effect and was
 *                            logged, as if the daemon crashed between two steps. Once per
 *                            tree: <case>/fake-kernel.killed (holding the rule) is created
 *                            first, and a tree that has it kills no more, so the daemon
 *                            started again on it runs on
 *
 * Every call is recorded in order and appended to <case>/fake-kernel.log, so a test can read
 * what a separate process (the daemon) did. One line per call:
 *
 *   bus/pci/devices/0000:01:00.0/driver_override=vfio-pci
 *   bus/pci/drivers/bochs-drm/bind=0000:01:00.0 -> -EBUSY
 *   bus/pci/devices/0000:03:00.0/sriov_numvfs=2
 *   load vfio-pci -> 1
 *   VIOLATION new_id written: bus/pci/drivers/vfio-pci/new_id=1234 1111
 *
 * Paths are normalized to the spelling above (a PCI device's attribute as
 * bus/pci/devices/ADDR/ATTR, a driver's as bus/pci/drivers/D/ATTR, a vtconsole's as
 * class/vtconsole/vtconN/bind, other paths resolved), whatever link the library went through;
 * values lose one trailing newline. The raw path and value are kept in FakeOp too.
 *
 * All state lives in the tree itself (links, files), so two fake kernels on one tree (the
 * test and the daemon it runs) agree about the machine.
 */

#include <stdbool.h>
#include <stddef.h>

#include "context.h"

typedef struct FakeKernel FakeKernel;

typedef enum FakeOpType {
        FAKE_OP_WRITE,
        FAKE_OP_LOAD,
} FakeOpType;

typedef struct FakeOp {
        FakeOpType type;
        char *path;       /* WRITE: as the library wrote it; LOAD: NULL */
        char *normalized; /* WRITE: normalized path; LOAD: NULL */
        char *value;      /* WRITE: the raw value; LOAD: the driver */
        int result;       /* 0 / 1 / negative errno */
} FakeOp;

extern const VbKernelOps fake_kernel_ops;

/* DIR is a case directory (holding sys/, proc/ and fake-kernel.conf), normally a copy made with
 * tree_new(). Returns -EINVAL (and prints the line to stderr) if fake-kernel.conf is bad. */
int fake_kernel_new(FakeKernel **ret, const char *dir);
FakeKernel *fake_kernel_free(FakeKernel *k);
static inline void fake_kernel_freep(FakeKernel **k) {
        if (*k)
                fake_kernel_free(*k);
}

/* vb_context_set_kernel_ops(ctx, &fake_kernel_ops, k). */
void fake_kernel_install(FakeKernel *k, VbContext *ctx);
/* A context on the fake tree (sysfs and procfs roots) with the fake kernel installed. */
int fake_kernel_new_context(FakeKernel *k, VbContext **ret);

const char *fake_kernel_dir(const FakeKernel *k);
const char *fake_kernel_sysfs_root(const FakeKernel *k);
const char *fake_kernel_procfs_root(const FakeKernel *k);

/* The calls so far. */
size_t fake_kernel_n_ops(const FakeKernel *k);
const FakeOp *fake_kernel_op(const FakeKernel *k, size_t i);
/* One line per call ("PATH=VALUE[ -> -ERRNO]" / "load DRIVER -> R"), each ending in "\n";
 * "" if there were none. Violations are not included. Free the result. */
char *fake_kernel_history(const FakeKernel *k);
/* Forget the calls and violations recorded so far (not the log file). */
void fake_kernel_forget(FakeKernel *k);

/* Rules the library broke (new_id written, a path outside sys/, a wrong root fd, …). */
size_t fake_kernel_n_violations(const FakeKernel *k);
const char *fake_kernel_violation(const FakeKernel *k, size_t i);

/* The whole <dir>/fake-kernel.log ("" if nothing was logged yet). NULL on failure. */
char *fake_kernel_read_log(const char *dir);

/* The machine's state, for assertions. Return a new string or NULL (none / no such device). */
char *fake_kernel_driver(const FakeKernel *k, const char *addr);
char *fake_kernel_override(const FakeKernel *k, const char *addr);
char *fake_kernel_platform_driver(const FakeKernel *k, const char *name);
/* A sysfs attribute, trailing newline removed; NULL if it cannot be read. */
char *fake_kernel_read(const FakeKernel *k, const char *path);
bool fake_kernel_driver_loaded(const FakeKernel *k, const char *driver);
bool fake_kernel_device_exists(const FakeKernel *k, const char *addr);

/* Hot-plug the device of a "hotplug ADDR PARENT GROUP" line: move hotplug/ADDR/ into sys/
 * under PARENT, create its links and probe it like device_add() does (a matching host driver
 * that exists binds it). RET_DEVPATH (optional): its path relative to sys/,
 * "devices/pci0000:00/0000:00:03.0/0000:03:00.0". Returns 1 if a driver bound it, 0 if not. */
int fake_kernel_plug(FakeKernel *k, const char *addr, char **ret_devpath);
/* Remove a PCI device (surprise removal). */
int fake_kernel_unplug(FakeKernel *k, const char *addr);
