/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "alloc-util.h"
#include "io-util.h"
#include "libvirt-domain.h"
#include "macro.h"

static inline void xml_free_docp(xmlDocPtr *d) {
        if (*d)
                xmlFreeDoc(*d);
}

static inline void xml_free_ctxtp(xmlParserCtxtPtr *c) {
        if (*c)
                xmlFreeParserCtxt(*c);
}

static inline void xml_freep(xmlChar **s) {
        if (*s)
                xmlFree(*s);
}

#define _cleanup_xml_ _cleanup_(xml_freep)

void vb_libvirt_domain_done(VbLibvirtDomain *d) {
        if (!d)
                return;
        for (size_t i = 0; i < d->n_hostdevs; i++)
                free(d->hostdevs[i].what);
        free(d->hostdevs);
        free(d->name);
        *d = (VbLibvirtDomain) {};
}

static bool name_is(const xmlNode *n, const char *name) {
        return n->type == XML_ELEMENT_NODE && streq((const char *) n->name, name);
}

static unsigned line_of(const xmlNode *n) {
        long l = xmlGetLineNo(n);
        return l > 0 && l <= (long) UINT_MAX ? (unsigned) l : 0;
}

static xmlNode *child(const xmlNode *n, const char *name) {
        for (xmlNode *c = n->children; c; c = c->next)
                if (name_is(c, name))
                        return c;
        return NULL;
}

static int error_at(char **ret_error, const char *source, long line, const char *fmt, ...) _printf_(4, 5);
static int error_at(char **ret_error, const char *source, long line, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int r;

        if (!ret_error)
                return -EBADMSG;
        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (line > 0 ? asprintf(ret_error, "%s:%ld: %s", source, line, what) < 0
                     : asprintf(ret_error, "%s: %s", source, what) < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return -EBADMSG;
}

/* An unsigned number in C's notation, as libvirt reads an address attribute (base 0: "0x1f",
 * "31", "037"), at most MAX. Absent: 0. 0 or -EINVAL. */
static int parse_number(const xmlNode *n, const char *attr, unsigned long max, unsigned long *ret) {
        _cleanup_xml_ xmlChar *v = xmlGetProp(n, (const xmlChar *) attr);
        const char *s = (const char *) v;
        unsigned long u;
        char *end;

        if (!v) {
                *ret = 0;
                return 0;
        }
        if (!*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        u = strtoul(s, &end, 0);
        if (errno != 0 || *end || u > max)
                return -EINVAL;
        *ret = u;
        return 0;
}

static int parse_address(const xmlNode *a, const char *source, VbPciAddress *ret, char **ret_error) {
        static const struct {
                const char *attr;
                unsigned long max;
        } fields[] = { { "domain", UINT32_MAX }, { "bus", 0xff }, { "slot", 0x1f }, { "function", 7 } };
        unsigned long v[4];

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (parse_number(a, fields[i].attr, fields[i].max, &v[i]) < 0) {
                        _cleanup_xml_ xmlChar *s = xmlGetProp(a, (const xmlChar *) fields[i].attr);

                        return error_at(ret_error, source, xmlGetLineNo(a),
                                        "<address %s='%s'> is not a number from 0 to %#lx", fields[i].attr,
                                        (const char *) s, fields[i].max);
                }
        *ret = (VbPciAddress) { .domain = v[0], .bus = v[1], .slot = v[2], .function = v[3] };
        return 0;
}

/* MANAGED: managed='yes' or 'no' (absent: no, libvirt's default). */
static int parse_managed(const xmlNode *n, const char *source, bool *ret, char **ret_error) {
        _cleanup_xml_ xmlChar *v = xmlGetProp(n, (const xmlChar *) "managed");

        if (!v || streq((const char *) v, "no"))
                *ret = false;
        else if (streq((const char *) v, "yes"))
                *ret = true;
        else
                return error_at(ret_error, source, xmlGetLineNo(n), "managed='%s' is neither 'yes' nor 'no'",
                                (const char *) v);
        return 0;
}

static int add_other(VbLibvirtDomain *d, const xmlNode *n, bool managed, const char *fmt, ...) _printf_(4, 5);
static int add_other(VbLibvirtDomain *d, const xmlNode *n, bool managed, const char *fmt, ...) {
        VbHostdev *h = &d->hostdevs[d->n_hostdevs];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&h->what, fmt, ap);
        va_end(ap);
        if (r < 0) {
                h->what = NULL;
                return -ENOMEM;
        }
        h->kind = VB_HOSTDEV_OTHER;
        h->managed = managed;
        h->line = line_of(n);
        d->n_hostdevs++;
        return 0;
}

/* A PCI host device: the element N, its <address> ADDR. */
static int add_pci(VbLibvirtDomain *d, const xmlNode *n, const xmlNode *addr, bool managed, bool interface,
                   const char *source, char **ret_error) {
        VbHostdev *h = &d->hostdevs[d->n_hostdevs];
        int r;

        *h = (VbHostdev) { .kind = VB_HOSTDEV_PCI, .managed = managed, .interface = interface, .line = line_of(n) };
        r = parse_address(addr, source, &h->address, ret_error);
        if (r < 0)
                return r;
        d->n_hostdevs++;
        return 0;
}

/* <hostdev mode='subsystem' type='pci' managed='no'><driver name='vfio'/><source><address …/>. */
static int parse_hostdev(VbLibvirtDomain *d, const xmlNode *n, const char *source, char **ret_error) {
        _cleanup_xml_ xmlChar *mode = xmlGetProp(n, (const xmlChar *) "mode");
        _cleanup_xml_ xmlChar *type = xmlGetProp(n, (const xmlChar *) "type");
        _cleanup_xml_ xmlChar *driver = NULL;
        const xmlNode *src, *addr, *drv;
        bool managed;
        int r;

        r = parse_managed(n, source, &managed, ret_error);
        if (r < 0)
                return r;
        if ((mode && !streq((const char *) mode, "subsystem")) || !type || !streq((const char *) type, "pci"))
                return add_other(d, n, managed, "<hostdev mode='%s' type='%s'>",
                                 mode ? (const char *) mode : "subsystem", type ? (const char *) type : "");
        drv = child(n, "driver");
        driver = drv ? xmlGetProp(drv, (const xmlChar *) "name") : NULL;
        if (driver && !streq((const char *) driver, "vfio"))
                return add_other(d, n, managed, "<hostdev type='pci'> with <driver name='%s'>", (const char *) driver);
        src = child(n, "source");
        addr = src ? child(src, "address") : NULL;
        if (!addr)
                return error_at(ret_error, source, xmlGetLineNo(n), "<hostdev type='pci'> has no <source><address>");
        return add_pci(d, n, addr, managed, false, source, ret_error);
}

/* <interface type='hostdev' managed='no'><source><address type='pci' …/>: a NIC's VF. */
static int parse_interface(VbLibvirtDomain *d, const xmlNode *n, const char *source, char **ret_error) {
        _cleanup_xml_ xmlChar *atype = NULL;
        const xmlNode *src, *addr;
        bool managed;
        int r;

        r = parse_managed(n, source, &managed, ret_error);
        if (r < 0)
                return r;
        src = child(n, "source");
        addr = src ? child(src, "address") : NULL;
        if (!addr)
                return error_at(ret_error, source, xmlGetLineNo(n),
                                "<interface type='hostdev'> has no <source><address>");
        atype = xmlGetProp(addr, (const xmlChar *) "type");
        if (atype && !streq((const char *) atype, "pci"))
                return add_other(d, n, managed, "<interface type='hostdev'> with <address type='%s'>",
                                 (const char *) atype);
        return add_pci(d, n, addr, managed, true, source, ret_error);
}

static bool is_hostdev_interface(const xmlNode *n) {
        _cleanup_xml_ xmlChar *type = NULL;

        if (!name_is(n, "interface"))
                return false;
        type = xmlGetProp(n, (const xmlChar *) "type");
        return type && streq((const char *) type, "hostdev");
}

static int parse_doc(xmlDocPtr doc, const char *source, VbLibvirtDomain *ret, char **ret_error) {
        _cleanup_(vb_libvirt_domain_done) VbLibvirtDomain d = {};
        const xmlNode *root = xmlDocGetRootElement(doc), *name, *devices;
        size_t n = 0;
        int r;

        if (!root || !name_is(root, "domain"))
                return error_at(ret_error, source, root ? xmlGetLineNo(root) : 0,
                                "the document is <%s>, not a libvirt <domain>",
                                root ? (const char *) root->name : "nothing");
        name = child(root, "name");
        if (name) {
                /* its text, and nothing an entity reference would expand to */
                size_t len = 0;

                for (const xmlNode *t = name->children; t; t = t->next)
                        if (t->type == XML_TEXT_NODE && t->content)
                                len += strlen((const char *) t->content);
                d.name = calloc(len + 1, 1);
                if (!d.name)
                        return -ENOMEM;
                for (const xmlNode *t = name->children; t; t = t->next)
                        if (t->type == XML_TEXT_NODE && t->content)
                                strcat(d.name, (const char *) t->content);
        }
        devices = child(root, "devices");
        if (!devices) {
                *ret = d;
                d = (VbLibvirtDomain) {};
                return 0;
        }
        for (const xmlNode *c = devices->children; c; c = c->next)
                n += name_is(c, "hostdev") || is_hostdev_interface(c);
        if (n > 0) {
                d.hostdevs = calloc(n, sizeof(VbHostdev));
                if (!d.hostdevs)
                        return -ENOMEM;
        }
        for (const xmlNode *c = devices->children; c; c = c->next) {
                if (name_is(c, "hostdev"))
                        r = parse_hostdev(&d, c, source, ret_error);
                else if (is_hostdev_interface(c))
                        r = parse_interface(&d, c, source, ret_error);
                else
                        continue;
                if (r < 0)
                        return r;
        }
        *ret = d;
        d = (VbLibvirtDomain) {};
        return 0;
}

typedef struct FirstError {
        char *message;
        int line;
} FirstError;

static void first_error_done(FirstError *f) {
        free(f->message);
}

static void keep_first_error(void *userdata, xmlErrorPtr e) {
        FirstError *f = userdata;

        if (f->message || !e || e->level < XML_ERR_ERROR)
                return;
        f->message = strdup(e->message ?: "not well-formed XML");
        f->line = e->line;
}

int vb_libvirt_domain_parse(const char *xml, size_t size, const char *source, VbLibvirtDomain *ret, char **ret_error) {
        _cleanup_(xml_free_ctxtp) xmlParserCtxtPtr ctxt = NULL;
        _cleanup_(xml_free_docp) xmlDocPtr doc = NULL;
        _cleanup_(first_error_done) FirstError first = {};

        if (size > VB_LIBVIRT_DOMAIN_XML_MAX) {
                if (ret_error && asprintf(ret_error, "%s: %zu bytes, more than a domain definition's %u", source, size,
                                          VB_LIBVIRT_DOMAIN_XML_MAX) < 0)
                        *ret_error = NULL;
                return -EFBIG;
        }
        if (size == 0)
                return error_at(ret_error, source, 0, "empty: no domain definition");
        ctxt = xmlNewParserCtxt();
        if (!ctxt)
                return -ENOMEM;
        /* No network, no DTD, no entity substitution: the document is data, nothing it names is
         * fetched or expanded. The first error is the one that says what is wrong (the parser
         * recovers and reports more); they are kept, not printed. */
        xmlSetStructuredErrorFunc(&first, keep_first_error);
        doc = xmlCtxtReadMemory(ctxt, xml, (int) size, source, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
        xmlSetStructuredErrorFunc(NULL, NULL);
        if (!doc || first.message) {
                if (!first.message && !(first.message = strdup("not well-formed XML")))
                        return -ENOMEM;
                first.message[strcspn(first.message, "\n")] = 0;
                return error_at(ret_error, source, first.line, "%s", first.message);
        }
        return parse_doc(doc, source, ret, ret_error);
}

int vb_libvirt_domain_read_fd(int fd, const char *source, VbLibvirtDomain *ret, char **ret_error) {
        _cleanup_free_ char *xml = NULL;
        size_t size;
        int r;

        r = vb_read_full_fd(fd, VB_LIBVIRT_DOMAIN_XML_MAX, 0, &xml, &size);
        if (r == -EFBIG) {
                if (ret_error && asprintf(ret_error, "%s: more than a domain definition's %u bytes", source,
                                          VB_LIBVIRT_DOMAIN_XML_MAX) < 0)
                        *ret_error = NULL;
                return r;
        }
        if (r < 0)
                return r;
        return vb_libvirt_domain_parse(xml, size, source, ret, ret_error);
}

char *vb_hostdev_describe(const VbHostdev *h) {
        char *s;

        if (h->kind != VB_HOSTDEV_PCI)
                return strdup(h->what ?: "a host device");
        if (asprintf(&s, "%s managed='%s'> %s", h->interface ? "<interface type='hostdev'" : "<hostdev type='pci'",
                     h->managed ? "yes" : "no", VB_PCI_ADDRESS_STR(&h->address)) < 0)
                return NULL;
        return s;
}
