/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A libvirt domain definition, as far as vfio-bind cares: its name and the host devices it passes
 * through. The XML is parsed with libxml2 (what libvirt itself uses), never scanned by hand: it
 * comes on a hook's stdin from libvirtd, or from /etc/libvirt/qemu/NAME.xml for `vfio-bind check`.
 *
 * Every <hostdev> and every <interface type='hostdev'> of <devices> is listed, so that what
 * vfio-bind does not handle (USB, SCSI, mediated devices, a non-VFIO driver) is said, not
 * dropped. A PCI address is read as libvirt reads it: each of domain, bus, slot and function is an
 * unsigned number in C's notation (0x1f, 31, 037), an attribute that is absent is 0, and the
 * ranges are the PCI ones (bus 0-255, slot 0-31, function 0-7).
 */

#include <stdbool.h>
#include <stddef.h>

#include "address.h"

/* The largest domain XML accepted: libvirt's own definitions are a few kilobytes; a document of
 * megabytes on a hook's stdin is a mistake, and is refused before it is parsed. */
#define VB_LIBVIRT_DOMAIN_XML_MAX (1024 * 1024)

typedef enum VbHostdevKind {
        VB_HOSTDEV_PCI,   /* <hostdev mode='subsystem' type='pci'> with the VFIO driver (or none named) */
        VB_HOSTDEV_OTHER, /* anything else: usb, scsi, mdev, mode='capabilities', driver kvm or xen */
        _VB_HOSTDEV_KIND_MAX,
        _VB_HOSTDEV_KIND_INVALID = -1,
} VbHostdevKind;

typedef struct VbHostdev {
        VbHostdevKind kind;
        bool managed;         /* managed='yes' (libvirt detaches and reattaches it itself) */
        bool interface;       /* an <interface type='hostdev'> (an SR-IOV NIC's VF), not a <hostdev> */
        VbPciAddress address; /* VB_HOSTDEV_PCI only */
        unsigned line;        /* of its element in the document */
        char *what;           /* VB_HOSTDEV_OTHER: what it is, "<hostdev type='usb'>" */
} VbHostdev;

typedef struct VbLibvirtDomain {
        char *name;
        VbHostdev *hostdevs;
        size_t n_hostdevs;
} VbLibvirtDomain;

void vb_libvirt_domain_done(VbLibvirtDomain *d);

/* Parse the SIZE bytes at XML (SOURCE names it in errors: a file name, "stdin"). Returns 0, or
 * -EBADMSG (not well-formed, not a <domain>, a hostdev's address out of range or unreadable),
 * -EFBIG (larger than VB_LIBVIRT_DOMAIN_XML_MAX), -ENOMEM; *RET_ERROR (may be NULL) is then what
 * is wrong, with its line: "stdin:3: Opening and ending tag mismatch: domain line 1 and devices". */
int vb_libvirt_domain_parse(const char *xml, size_t size, const char *source, VbLibvirtDomain *ret, char **ret_error);

/* Read FD to its end (at most VB_LIBVIRT_DOMAIN_XML_MAX bytes, else -EFBIG without reading the
 * rest) and parse it. The same returns, and -errno of a failed read. */
int vb_libvirt_domain_read_fd(int fd, const char *source, VbLibvirtDomain *ret, char **ret_error);

/* "<hostdev type='pci' managed='no'> 0000:01:00.0", for messages: into a new string, or NULL. */
char *vb_hostdev_describe(const VbHostdev *h);
