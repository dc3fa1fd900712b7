#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seeds of fuzz-pci-config: the bytes of sysfs "config" files, each built from a
header and its capability lists. Run it in this directory (or give the directory as the
argument); the files it writes are committed beside it, so rerun it after a change and commit
both.

    python3 make-seeds.py [DIR]
"""
import os
import struct
import sys

CAP_PM, CAP_MSI, CAP_EXP, CAP_SSVID = 0x01, 0x05, 0x10, 0x0D
EXT_AER, EXT_VC, EXT_DSN, EXT_ACS = 0x0001, 0x0002, 0x0003, 0x000D

# PCI Express device/port types (PCI_EXP_TYPE_*)
ENDPOINT, ROOT_PORT, UPSTREAM, DOWNSTREAM, PCIE_TO_PCI = 0x0, 0x4, 0x5, 0x6, 0x7

# ACS capability/control bits (PCI_ACS_*)
SV, TB, RR, CR, UF, EC, DT = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40


class Space:
    """Configuration space of SIZE bytes, all zero."""

    def __init__(self, size=4096):
        self.b = bytearray(size)

    def u8(self, pos, v):
        self.b[pos] = v

    def u16(self, pos, v):
        struct.pack_into("<H", self.b, pos, v)

    def u32(self, pos, v):
        struct.pack_into("<I", self.b, pos, v)

    def header(self, header_type, first=0, vendor=0x8086, device=0x1234, class_code=0x020000):
        """A header of HEADER_TYPE (bit 7: multifunction); the capability list at FIRST (0: none)."""
        self.u16(0x00, vendor)
        self.u16(0x02, device)
        self.u16(0x04, 0x0007)  # Command: I/O, memory, bus master
        self.u32(0x08, class_code << 8 | 0x01)  # class, revision 1
        self.u8(0x0E, header_type)
        if (header_type & 0x7F) == 1:
            self.u8(0x18, 0x00)  # primary bus
            self.u8(0x19, 0x01)  # secondary bus
            self.u8(0x1A, 0x01)  # subordinate bus
        if first:
            self.u16(0x06, 0x0010)  # Status: Capabilities List
            self.u8(0x14 if (header_type & 0x7F) == 2 else 0x34, first)
        return self

    def cap(self, pos, cap_id, nxt, body=b""):
        self.u8(pos, cap_id)
        self.u8(pos + 1, nxt)
        self.b[pos + 2 : pos + 2 + len(body)] = body
        return self

    def cap_pcie(self, pos, port_type, nxt):
        # version 2, the type in bits 7:4; Device Capabilities with some bits set
        self.cap(pos, CAP_EXP, nxt, struct.pack("<HI", 0x0002 | port_type << 4, 0x00008FE0))
        return self

    def ext(self, pos, cap_id, nxt, version=1, body=b""):
        self.u32(pos, cap_id | version << 16 | nxt << 20)
        self.b[pos + 4 : pos + 4 + len(body)] = body
        return self

    def acs(self, pos, nxt, cap, ctrl):
        return self.ext(pos, EXT_ACS, nxt, body=struct.pack("<HH", cap, ctrl))

    def standard(self, class_code, port_type, header_type):
        """PM at 0x40, MSI at 0x50, PCI Express at 0x70 (the usual order of a bridge or device);
        a bridge header (type 1) has the PCI-to-PCI bridge class whatever CLASS_CODE says."""
        self.header(header_type, 0x40, class_code=0x060400 if (header_type & 0x7F) == 1 else class_code)
        self.cap(0x40, CAP_PM, 0x50, struct.pack("<HH", 0x0003, 0x0008))
        self.cap(0x50, CAP_MSI, 0x70, struct.pack("<H", 0x0080))
        self.cap_pcie(0x70, port_type, 0x00)
        return self


ACS_ALL = SV | TB | RR | CR | UF | EC | DT
ISOLATION = SV | RR | CR | UF


def seeds():
    s = {}

    # 64 bytes: what a user who is not root reads (a PCIe endpoint's header, its list unseen).
    x = Space().standard(0x030000, ENDPOINT, 0x00)
    s["unprivileged-64"] = x.b[:64]

    # A conventional PCI endpoint (PM, MSI, no PCI Express) and its 256 bytes.
    x = Space(256).header(0x00, 0x40, class_code=0x040100)
    x.cap(0x40, CAP_PM, 0x50, struct.pack("<HH", 0x0002, 0x0000))
    x.cap(0x50, CAP_MSI, 0x00, struct.pack("<H", 0x0080))
    s["conventional-endpoint-256"] = x.b

    # Function 1 of a multifunction conventional device (bit 7 of the header type).
    x = Space(256).header(0x80, 0x40, class_code=0x040300)
    x.cap(0x40, CAP_PM, 0x00, struct.pack("<HH", 0x0002, 0x0000))
    s["multifunction-256"] = x.b

    # A CardBus bridge: the list starts at 0x14.
    x = Space(256).header(0x02, 0x80, class_code=0x060700)
    x.u8(0x34, 0x40)  # not a capability pointer in this header
    x.cap(0x80, CAP_PM, 0x00, struct.pack("<HH", 0x0002, 0x0000))
    s["cardbus-256"] = x.b

    # A PCI Express endpoint with its 4096 bytes, no extended capability (0x100 all zero).
    x = Space().standard(0x030000, ENDPOINT, 0x00)
    s["pcie-endpoint-no-ext-4096"] = x.b

    # A PCI Express GPU that is function 0 of two: AER, then ACS offering nothing, then DSN.
    x = Space().standard(0x030000, ENDPOINT, 0x80)
    x.ext(0x100, EXT_AER, 0x148, version=2)
    x.acs(0x148, 0x150, 0x0000, 0x0000)
    x.ext(0x150, EXT_DSN, 0x000, body=struct.pack("<Q", 0x0123456789ABCDEF))
    s["pcie-multifunction-endpoint-acs-empty"] = x.b

    # A root port with ACS, every isolation control enabled.
    x = Space().standard(0, ROOT_PORT, 0x01)
    x.acs(0x100, 0x000, ACS_ALL, ISOLATION)
    s["root-port-acs-enabled"] = x.b

    # A root port with ACS, Request Redirect and Upstream Forwarding off.
    x = Space().standard(0, ROOT_PORT, 0x81)
    x.acs(0x100, 0x000, ACS_ALL, SV | CR)
    s["root-port-acs-rr-uf-off"] = x.b

    # A root port whose ACS does not offer Upstream Forwarding (counts as enabled).
    x = Space().standard(0, ROOT_PORT, 0x01)
    x.acs(0x100, 0x000, SV | RR | CR, SV | RR | CR)
    s["root-port-acs-no-uf"] = x.b

    # A switch downstream port without ACS (AER only).
    x = Space().standard(0, DOWNSTREAM, 0x01)
    x.ext(0x100, EXT_AER, 0x000, version=2)
    s["downstream-port-no-acs"] = x.b

    # A switch upstream port: AER at 0x100, then VC, then ACS at 0x220.
    x = Space().standard(0, UPSTREAM, 0x01)
    x.ext(0x100, EXT_AER, 0x140, version=2)
    x.ext(0x140, EXT_VC, 0x220)
    x.acs(0x220, 0x000, SV | RR | CR | UF | EC, SV | RR | CR | UF)
    s["upstream-port-aer-vc-acs"] = x.b

    # A downstream port with AER, then ACS (the usual order in switches).
    x = Space().standard(0, DOWNSTREAM, 0x01)
    x.ext(0x100, EXT_AER, 0x148, version=2)
    x.acs(0x148, 0x000, SV | RR | CR | UF, RR | CR)
    s["downstream-port-aer-then-acs"] = x.b

    # A PCI Express to PCI bridge (type 7).
    x = Space().standard(0, PCIE_TO_PCI, 0x01)
    x.ext(0x100, EXT_AER, 0x000, version=1)
    s["pcie-to-pci-bridge"] = x.b

    # The standard list loops: 0x40 -> 0x50 -> 0x40, PCI Express never reached.
    x = Space().standard(0x020000, ENDPOINT, 0x00)
    x.cap(0x50, CAP_MSI, 0x40, struct.pack("<H", 0x0080))
    s["cap-list-loop"] = x.b

    # The extended list loops: 0x100 -> 0x140 -> 0x100, no ACS.
    x = Space().standard(0, ROOT_PORT, 0x01)
    x.ext(0x100, EXT_AER, 0x140, version=2)
    x.ext(0x140, EXT_VC, 0x100)
    s["ext-list-loop"] = x.b

    # Pointers out of range: a standard pointer into the header (0x3c), an extended one back
    # into the standard space (0x0fc), and one at 0xffc with no room for ACS's registers.
    x = Space().standard(0x020000, ENDPOINT, 0x00)
    x.cap(0x50, CAP_MSI, 0x3C, struct.pack("<H", 0x0080))
    s["cap-pointer-into-header"] = x.b
    x = Space().standard(0, ROOT_PORT, 0x01)
    x.ext(0x100, EXT_AER, 0x0FC, version=2)
    x.u32(0x0FC, EXT_ACS | 1 << 16)  # looks like ACS, but in the standard space
    x.acs(0xF00, 0x000, ACS_ALL, ISOLATION)
    s["ext-pointer-below-0x100"] = x.b
    x = Space().standard(0, ROOT_PORT, 0x01)
    x.ext(0x100, EXT_AER, 0xFFC, version=2)
    x.u32(0xFFC, EXT_ACS | 1 << 16)
    s["ext-pointer-at-0xffc"] = x.b

    # Where the standard walk must stop or skip: the Status bit clear (a pointer all the same),
    # ID 0xff on the way, and pointers whose low two bits are set (0x53 is 0x50, 0x72 is 0x70).
    x = Space().standard(0x020000, ENDPOINT, 0x00)
    x.u16(0x06, 0x0000)
    s["cap-status-bit-clear"] = x.b
    x = Space().standard(0x020000, ENDPOINT, 0x00)
    x.cap(0x50, 0xFF, 0x70)
    s["cap-id-ff"] = x.b
    x = Space().standard(0x020000, ENDPOINT, 0x00)
    x.cap(0x40, CAP_PM, 0x53)
    x.cap(0x50, CAP_MSI, 0x72)
    s["cap-pointer-low-bits"] = x.b

    # A root port's bytes cut at 1024 (no extended space, whatever is in it).
    x = Space().standard(0, ROOT_PORT, 0x01)
    x.acs(0x100, 0x000, ACS_ALL, SV | CR)
    s["root-port-cut-at-1024"] = x.b[:1024]

    # The longest standard list without a loop: 48 capabilities, 0x40 to 0xfc, PCI Express the
    # last (the kernel's TTL of 48 just reaches it).
    x = Space().header(0x01, 0x40, class_code=0x060400)
    for pos in range(0x40, 0xFC, 4):
        x.cap(pos, CAP_SSVID, pos + 4)
    x.cap_pcie(0xFC, DOWNSTREAM, 0x00)
    x.acs(0x100, 0x000, ACS_ALL, ISOLATION)
    s["cap-list-48-long"] = x.b

    # Extended lists at the kernel's TTL of 480: ACS as the 480th capability (found) and as the
    # 481st (not found); headers 4 bytes apart, the last one with room for ACS's registers.
    for n, name in ((480, "ext-list-acs-480th"), (481, "ext-list-acs-481st")):
        x = Space().standard(0, ROOT_PORT, 0x01)
        for i in range(n - 1):
            x.ext(0x100 + 4 * i, EXT_VC, 0x100 + 4 * (i + 1))
        x.acs(0x100 + 4 * (n - 1), 0x000, SV | RR, SV)
        s[name] = x.b

    # A header type the kernel does not know (3): a list at 0x34 that leads to PCI Express and
    # ACS, which the kernel never looks at (__pci_bus_find_cap_start() gives no start).
    x = Space().standard(0, ROOT_PORT, 0x01)
    x.u8(0x0E, 0x03)
    x.acs(0x100, 0x000, ACS_ALL, ISOLATION)
    s["unknown-header-type-3"] = x.b

    # A function that is gone: all ones.
    s["all-ones-4096"] = bytearray(b"\xff" * 4096)
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(data))


if __name__ == "__main__":
    main()
