/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The host's console on a GPU: framebuffer vtconsoles (/sys/class/vtconsole/vtconN, "(M) frame
 * buffer device") and the firmware's boot framebuffer platform device (simple-framebuffer.N,
 * efi-framebuffer.N, vesa-framebuffer.N, …), with the memory range it occupies (/proc/iomem).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "pci.h"

typedef struct VbVtconsole {
        unsigned index; /* N of vtconN */
        char *name;     /* "(M) frame buffer device" */
        bool bound;
        bool framebuffer; /* an "(M) frame buffer device": one we may unbind */
} VbVtconsole;

typedef struct VbFramebuffer {
        char *name;   /* platform device name, "efi-framebuffer.0" */
        char *driver; /* NULL: not bound (already released) */
        bool has_parent;
        VbPciAddress parent; /* newer kernels: the GPU is the platform device's parent */
} VbFramebuffer;

typedef struct VbMemoryRange {
        uint64_t start, end; /* inclusive */
        char *name;          /* "BOOTFB", "efifb", "simpledrm", … */
} VbMemoryRange;

typedef struct VbConsoleState {
        VbVtconsole *vtconsoles;
        size_t n_vtconsoles;
        VbFramebuffer *framebuffers;
        size_t n_framebuffers;
        VbMemoryRange *ranges; /* framebuffer memory from /proc/iomem */
        size_t n_ranges;
        /* The framebuffer console (class/graphics/fbcon) is in the kernel but shows on no
         * framebuffer at this moment (no "frame buffer device" vtconsole): a DRM driver is taking
         * over from the boot framebuffer (simpledrm's or efifb's device is gone, its own fbdev is
         * not registered yet), and the console comes back on the GPU right after. It counts as
         * held. */
        bool fbcon_between;
} VbConsoleState;

void vb_console_state_done(VbConsoleState *s);
int vb_console_read(VbContext *ctx, VbConsoleState *ret);

/* The boot framebuffer's memory ranges in the text of /proc/iomem (as vb_procfs_read() returns
 * it): lines "START-END : NAME" (hex, at any depth) whose NAME is one of the framebuffers'
 * (BOOTFB, efifb, simplefb, simpledrm, vesafb, simple-framebuffer, efi-framebuffer), without
 * the all-zero ranges unprivileged readers see and ranges with START > END. No I/O. Returns 0
 * (RET: an array of RET_N ranges, NULL if none; free with vb_memory_ranges_free()) or -ENOMEM. */
int vb_console_iomem_parse(const char *text, VbMemoryRange **ret, size_t *ret_n);
void vb_memory_ranges_free(VbMemoryRange *ranges, size_t n);

/* Is anything of the console still held (a bound framebuffer vtconsole, a bound boot
 * framebuffer, or fbcon between two framebuffers)? */
bool vb_console_is_held(const VbConsoleState *s);

/* Does device D own the console: it is the boot VGA device, the boot framebuffer's parent, or
 * one of its BARs holds the framebuffer's memory? If so and RET_WHY is non-NULL, it points at
 * a static explanation. */
bool vb_console_owned_by(const VbConsoleState *s, const VbPciDevice *d, const char **ret_why);

typedef struct VbConsoleRelease {
        unsigned vtconsoles_released;   /* vtconsoles unbound now */
        unsigned framebuffers_released; /* framebuffer platform devices unbound now */
        char *released;                 /* human list: "vtcon1, efi-framebuffer.0", NULL if none */
} VbConsoleRelease;

void vb_console_release_done(VbConsoleRelease *r);

/* Unbind every bound framebuffer vtconsole, then unbind the boot framebuffer through its own
 * driver. "Already gone" is fine. Returns 1 if something was released, 0 if nothing was held,
 * negative errno on the first failure (RET still says what was released before it). */
int vb_console_release(VbContext *ctx, const VbConsoleState *s, VbConsoleRelease *ret);

typedef struct VbConsoleRestore {
        char *rebound; /* what was bound again: "simple-framebuffer.0, vtcon1", NULL: nothing */
        char *shown;   /* the framebuffer consoles bound now: "vtcon1 (frame buffer device)", NULL: none */
        char *missing; /* what could not be had back, in words, NULL: nothing */
} VbConsoleRestore;

void vb_console_restore_done(VbConsoleRestore *r);

/* Give the console back after the GPU that showed it went back to the host: every boot
 * framebuffer platform device that is still there and unbound is bound again (to the driver of
 * its name, else through the platform bus's drivers_probe), then every framebuffer vtconsole
 * that is not bound is bound. The GPU's own DRM driver, once it is bound again, registers a
 * framebuffer that fbcon takes by itself; this does not replace it. Returns 1 if a framebuffer
 * console shows now, 0 if none does (RET->missing says why), negative errno on a failed write
 * (RET says what was done before it). DRIVER_BACK: the release bound a host driver to the GPU
 * that showed the console, whose framebuffer may register a moment later: fbcon between two
 * framebuffers is waited for then (two seconds at most), and not otherwise. */
int vb_console_restore(VbContext *ctx, bool driver_back, VbConsoleRestore *ret);
