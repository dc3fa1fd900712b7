#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install what the QEMU tests need on the host (Debian 12): QEMU, OVMF firmware, mmdebstrap for
# the guest image, cpio/zstd to pack it, kmod for depmod, python3 for the QMP client; make, gcc,
# flex, bison, bc, libelf-dev, libssl-dev and xz-utils to build the NixOS-like kernel
# (build-kernel.sh).
set -eu
# e2fsprogs: mkfs.ext4 -d for the two-stage boot's root disk
PACKAGES="qemu-system-x86 ovmf mmdebstrap cpio zstd kmod python3 apt-utils ca-certificates e2fsprogs
          make gcc libc6-dev flex bison bc libelf-dev libssl-dev xz-utils"
if [ "$(id -u)" != 0 ]; then
        echo "install-deps.sh: run as root (apt-get install $PACKAGES)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $PACKAGES
