/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Module aliases: a PCI device's modalias ("pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00"),
 * its vfio_pci: form (the aliases that PCI_DRIVER_OVERRIDE_DEVICE_VFIO() table entries generate:
 * the VFIO drivers that may drive it), alias patterns ("vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*")
 * and how specific they are, and the modules.alias text format ("alias PATTERN MODULE"). Pure
 * text, no I/O.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VB_MODALIAS_VFIO_PREFIX "vfio_pci:"

/* The modalias the kernel gives a PCI device with these IDs (its "modalias" attribute, whose
 * format pci_uevent() and modalias_show() share) into BUF: 0 or -ENAMETOOLONG. */
int vb_modalias_format_pci(uint16_t vendor, uint16_t device, uint16_t subvendor, uint16_t subdevice, uint32_t class,
                           char *buf, size_t size);
#define VB_MODALIAS_MAX 64

/* "pci:v…" as "vfio_pci:v…" into BUF: 0, -EINVAL if MODALIAS is not a PCI modalias, or
 * -ENAMETOOLONG. */
int vb_modalias_to_vfio(const char *modalias, char *buf, size_t size);

/* How many fields of an alias pattern are wildcards: "vfio_pci:v*d*sv*sd*bc*sc*i*" has 7,
 * "vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i*" 5. file2alias writes a field either exactly or as
 * a lone "*", so this counts the '*' after the prefix. Fewer is more specific. */
unsigned vb_modalias_wildcards(const char *pattern);

/* Does PATTERN (a shell glob, as modprobe matches aliases) match ALIAS? */
bool vb_modalias_match(const char *pattern, const char *alias);

/* Called for a module whose alias PATTERN matches; a negative return stops the search and is
 * returned. */
typedef int (*VbModaliasFn)(void *userdata, const char *module, const char *pattern);

/* Every "alias PATTERN MODULE" line of TEXT (modules.alias format: '#' comments, blank lines)
 * whose PATTERN matches ALIAS: FN(USERDATA, MODULE, PATTERN). Other lines are skipped. Returns 0
 * or FN's negative return, -ENOMEM. */
int vb_modalias_text_find(const char *text, const char *alias, VbModaliasFn fn, void *userdata);
