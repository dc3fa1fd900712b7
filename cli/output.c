/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libudev.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "output.h"
#include "record.h"
#include "sysfs.h"

bool vbc_use_color(void) {
        static int cached = -1;
        const char *e;

        if (cached < 0) {
                e = getenv("NO_COLOR");
                if (e && *e)
                        cached = 0;
                else {
                        e = getenv("TERM");
                        cached = isatty(STDOUT_FILENO) && !(e && streq(e, "dumb"));
                }
        }
        return cached;
}

const char *vbc_color(const char *sgr) {
        return vbc_use_color() ? sgr : "";
}

void vbc_json_string(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                default:
                        if (*p < 0x20)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

struct VbcNames {
        struct udev *udev;
        struct udev_hwdb *hwdb;
        char *recorded;  /* a dump's names ("MODALIAS\tKEY\tVALUE" lines) instead of the hwdb */
        VbRecorder *rec; /* a dump being taken: note every name looked up */
};

VbcNames *vbc_names_new(const VbPlatform *p, VbRecorder *rec) {
        VbcNames *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->rec = rec;
        if (p && p->hwdb_names) {
                /* A replay: the names the dump's machine had, and no others (none if missing). */
                FILE *f = fopen(p->hwdb_names, "re");
                size_t size = 0;
                if (f) {
                        if (getdelim(&n->recorded, &size, '\0', f) < 0) {
                                free(n->recorded);
                                n->recorded = NULL;
                        }
                        fclose(f);
                }
                if (!n->recorded)
                        n->recorded = strdup("");
                return n;
        }
        n->udev = udev_new();
        if (n->udev)
                n->hwdb = udev_hwdb_new(n->udev);
        return n;
}

VbcNames *vbc_names_free(VbcNames *n) {
        if (!n)
                return NULL;
        if (n->hwdb)
                udev_hwdb_unref(n->hwdb);
        if (n->udev)
                udev_unref(n->udev);
        free(n->recorded);
        free(n);
        return NULL;
}

static char *recorded_lookup(const char *text, const char *modalias, const char *key) {
        size_t ml = strlen(modalias), kl = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strneq(l, modalias, ml) && l[ml] == '\t' && strneq(l + ml + 1, key, kl) && l[ml + 1 + kl] == '\t')
                        return strndup(l + ml + kl + 2, strcspn(l + ml + kl + 2, "\n"));
        return NULL;
}

static char *hwdb_lookup_udev(VbcNames *n, const char *modalias, const char *key) {
        struct udev_list_entry *e;

        if (!n || !n->hwdb)
                return NULL;
        udev_list_entry_foreach(
                e, udev_hwdb_get_properties_list_entry(n->hwdb, modalias,
                                                       0)) if (streq(udev_list_entry_get_name(e),
                                                                     key)) return strdup(udev_list_entry_get_value(e));
        return NULL;
}

static char *hwdb_lookup(VbcNames *n, const char *modalias, const char *key) {
        char *v;

        if (n && n->recorded)
                return recorded_lookup(n->recorded, modalias, key);
        v = hwdb_lookup_udev(n, modalias, key);
        if (v && n->rec)
                vb_recorder_add_name(n->rec, modalias, key, v);
        return v;
}

static char *read_modalias(VbContext *ctx, const VbPciDevice *d) {
        char path[128];
        char *s = NULL;

        snprintf(path, sizeof(path), VB_PCI_DEVICES_PATH "/%s/modalias", VB_PCI_ADDRESS_STR(&d->address));
        if (vb_sysfs_read(ctx, path, &s) >= 0)
                return s;
        /* Without the attribute, build one the hwdb's patterns match (subsystem ids unknown). */
        if (asprintf(&s, "pci:v%08Xd%08Xsv00000000sd00000000bc%02Xsc%02Xi%02X", d->vendor, d->device,
                     (d->class >> 16) & 0xff, (d->class >> 8) & 0xff, d->class & 0xff) < 0)
                return NULL;
        return s;
}

char *vbc_names_device(VbcNames *n, VbContext *ctx, const VbPciDevice *d) {
        _cleanup_free_ char *modalias = read_modalias(ctx, d), *vendor = NULL, *model = NULL;
        char *s = NULL;

        if (modalias) {
                vendor = hwdb_lookup(n, modalias, "ID_VENDOR_FROM_DATABASE");
                model = hwdb_lookup(n, modalias, "ID_MODEL_FROM_DATABASE");
        }
        if (!vendor && !model)
                return NULL;
        if (asprintf(&s, "%s %s", vendor ?: "Unknown vendor", model ?: "device") < 0)
                return NULL;
        return s;
}

/* The common classes, for machines without a hwdb (as lspci names them). */
static const struct {
        uint16_t class;
        const char *name;
} class_names[] = {
        { 0x0100, "SCSI storage controller" },
        { 0x0101, "IDE interface" },
        { 0x0104, "RAID bus controller" },
        { 0x0106, "SATA controller" },
        { 0x0107, "Serial Attached SCSI controller" },
        { 0x0108, "Non-Volatile memory controller" },
        { 0x0200, "Ethernet controller" },
        { 0x0280, "Network controller" },
        { 0x0300, "VGA compatible controller" },
        { 0x0302, "3D controller" },
        { 0x0380, "Display controller" },
        { 0x0401, "Multimedia audio controller" },
        { 0x0403, "Audio device" },
        { 0x0600, "Host bridge" },
        { 0x0601, "ISA bridge" },
        { 0x0604, "PCI bridge" },
        { 0x0680, "Bridge" },
        { 0x0c03, "USB controller" },
        { 0x0c05, "SMBus" },
        { 0x0c80, "Serial bus controller" },
};

char *vbc_names_class(VbcNames *n, VbContext *ctx, const VbPciDevice *d) {
        _cleanup_free_ char *modalias = read_modalias(ctx, d);
        char *s = NULL;

        if (modalias) {
                s = hwdb_lookup(n, modalias, "ID_PCI_SUBCLASS_FROM_DATABASE");
                if (!s)
                        s = hwdb_lookup(n, modalias, "ID_PCI_CLASS_FROM_DATABASE");
        }
        for (size_t i = 0; !s && i < ELEMENTSOF(class_names); i++)
                if (class_names[i].class == d->class >> 8)
                        s = strdup(class_names[i].name);
        return s;
}

size_t vbc_width(const char *s) {
        size_t w = 0;
        for (const unsigned char *p = (const unsigned char *) (s ?: ""); *p; p++)
                if ((*p & 0xc0) != 0x80)
                        w++;
        return w;
}

void vbc_print_padded(FILE *f, const char *s, size_t width) {
        size_t w = vbc_width(s);
        fputs(s ?: "", f);
        for (; w < width; w++)
                fputc(' ', f);
}
