#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build (or find in the cache) the third kernel of the QEMU tests: Linux 6.12 from Debian's
# linux-source-6.12, configured like NixOS's kernels where it matters to vfio-bind (simpledrm on
# simple-framebuffer.0, VFIO device cdevs, VFIO_PCI_VGA, the virtio variant driver): `make
# tinyconfig`, then the fragments kernel/vm-base.config (what the test machine and its guest need:
# systemd, udev, PCI, the instruments) and kernel/nixos-like.config (what NixOS sets). Every line
# of both must hold in the final .config, or the build fails.
#
# The result lands in $VB_VM_CACHE/kernel-build/<hash>/ (default cache
# ${XDG_CACHE_HOME:-/var/cache}/vfio-bind-vm), keyed on the fragment, the source package's version
# and RECIPE below (bump it when the build steps change: a build takes tens of minutes, so editing a
# comment here does not start one). The compiler runs under nice -n 19.
#
# Environment: VB_VM_CACHE, VB_VM_KERNEL_JOBS (default: the cores), VB_VM_KERNEL_WORKDIR (where
# the source is unpacked and compiled; default $VB_VM_CACHE/kernel-build).
#
# Usage: build-kernel.sh           prints the build directory on stdout, progress on stderr
#        build-kernel.sh --key     prints only the cache key
#
# The build directory holds: vmlinuz, kernel-release, config, and lib/modules/<release>/ as
# `make modules_install` left it (stripped, not compressed).

set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
HERE=$(dirname "$SELF")
FRAGMENTS=("$HERE/kernel/vm-base.config" "$HERE/kernel/nixos-like.config")
CACHE=${VB_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/vfio-bind-vm}
SRC_PKG=linux-source-6.12
JOBS=${VB_VM_KERNEL_JOBS:-$(nproc)}
RECIPE=2

say() { printf '[vm-kernel] %s\n' "$*" >&2; }
die() { printf '[vm-kernel] error: %s\n' "$*" >&2; exit 1; }

resolve_source() {
        local ver
        ver=$(apt-cache policy "$SRC_PKG" 2>/dev/null | sed -n 's/^ *Candidate: //p')
        if [[ -z $ver || $ver == "(none)" ]]; then
                say "apt does not know $SRC_PKG yet; running apt-get update"
                apt-get update -q >&2 || die "apt-get update failed"
                ver=$(apt-cache policy "$SRC_PKG" | sed -n 's/^ *Candidate: //p')
        fi
        [[ -n $ver && $ver != "(none)" ]] ||
                die "no installable $SRC_PKG (it comes from bookworm-security: is it in apt's sources?)"
        SRC_VER=$ver
}

resolve_source
KEY=$({ cat "${FRAGMENTS[@]}" | sha256sum | cut -d' ' -f1; echo "$SRC_PKG $SRC_VER recipe $RECIPE"; } | sha256sum | cut -c1-16)
if [[ ${1:-} == --key ]]; then
        echo "$KEY"
        exit 0
fi

OUT=$CACHE/kernel-build/$KEY
built() { [[ -s $OUT/vmlinuz && -s $OUT/kernel-release && -d $OUT/lib/modules ]]; }
if built; then
        say "using the cached kernel $OUT ($(cat "$OUT/kernel-release"))"
        touch "$OUT" 2>/dev/null || true
        echo "$OUT"
        exit 0
fi

mkdir -p "$CACHE/kernel-build" "$CACHE/kernel-src"
exec 7>"$CACHE/kernel-build/.lock"
if ! flock -n 7; then
        say "another build of the kernel is running; waiting for it"
        flock 7
fi
if built; then
        echo "$OUT"
        exit 0
fi
for tool in make gcc flex bison bc dpkg-deb apt-get xz; do
        command -v "$tool" >/dev/null || die "$tool is missing (run tests/vm/install-deps.sh)"
done
[[ -e /usr/include/libelf.h ]] || die "libelf-dev is missing (run tests/vm/install-deps.sh)"
[[ -e /usr/include/openssl/opensslv.h ]] || die "libssl-dev is missing (run tests/vm/install-deps.sh)"

# the unpacked source and the objects (about 2 GB) go to VB_VM_KERNEL_WORKDIR when it is set
# (tools/test.sh points it at its scratch tmpfs), else next to the cache; only the result is kept
WORK=$(mktemp -d "${VB_VM_KERNEL_WORKDIR:-$CACHE/kernel-build}/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
START=$SECONDS

SRC_DEB=$(find "$CACHE/kernel-src" -maxdepth 1 -name "${SRC_PKG}_${SRC_VER//:/%3a}_all.deb" | head -n1)
if [[ -z $SRC_DEB ]]; then
        say "downloading $SRC_PKG $SRC_VER"
        (cd "$CACHE/kernel-src" && apt-get download -q "$SRC_PKG=$SRC_VER" >&2)
        SRC_DEB=$(find "$CACHE/kernel-src" -maxdepth 1 -name "${SRC_PKG}_*_all.deb" | head -n1)
        [[ -n $SRC_DEB ]] || die "download of $SRC_PKG failed"
fi
say "unpacking ${SRC_DEB##*/}"
dpkg-deb --fsys-tarfile "$SRC_DEB" | tar -x -C "$WORK" --wildcards './usr/src/linux-source-*.tar.xz'
tar -x -C "$WORK" -f "$WORK"/usr/src/linux-source-*.tar.xz
rm -rf "${WORK:?}/usr"
S=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*' | head -n1)
[[ -n $S && -f $S/Makefile ]] || die "no kernel tree in ${SRC_DEB##*/}"
O=$WORK/obj
mkdir -p "$O"

say "configuring: tinyconfig + ${FRAGMENTS[*]##*/}"
make -s -C "$S" O="$O" tinyconfig >&2
(cd "$O" && "$S/scripts/kconfig/merge_config.sh" -m -O "$O" "$O/.config" "${FRAGMENTS[@]}" >/dev/null)
make -s -C "$S" O="$O" olddefconfig >&2
# every line of the fragments must hold
bad=()
while IFS= read -r line; do
        if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
                grep -qxF "$line" "$O/.config" || bad+=("$line (got: $(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$O/.config" || echo unset))")
        elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
                ! grep -q "^${BASH_REMATCH[1]}=" "$O/.config" || bad+=("$line (got: $(grep "^${BASH_REMATCH[1]}=" "$O/.config"))")
        fi
done < <(cat "${FRAGMENTS[@]}")
((${#bad[@]} == 0)) || die "the configuration did not take: ${bad[*]}"

say "building bzImage and modules with $JOBS jobs under nice -n 19 (a fresh build takes a while)"
nice -n 19 make -s -C "$S" O="$O" -j"$JOBS" bzImage modules >"$WORK/build.log" 2>&1 ||
        { tail -n 40 "$WORK/build.log" >&2; die "the kernel build failed"; }
KREL=$(make -s -C "$S" O="$O" kernelrelease)
mkdir -p "$WORK/out"
make -s -C "$S" O="$O" INSTALL_MOD_PATH="$WORK/out" INSTALL_MOD_STRIP=1 modules_install >&2
# modules_install puts the modules under lib/modules or usr/lib/modules depending on the version
if [[ ! -d $WORK/out/lib/modules && -d $WORK/out/usr/lib/modules ]]; then
        mv "$WORK/out/usr/lib" "$WORK/out/lib"
fi
rm -f "$WORK/out/lib/modules/$KREL"/{build,source}
cp "$O/arch/x86/boot/bzImage" "$WORK/out/vmlinuz"
cp "$O/.config" "$WORK/out/config"
echo "$KREL" > "$WORK/out/kernel-release"
rm -rf "$OUT"
mv "$WORK/out" "$OUT"
# the source package is not needed once the kernel is built (the key changes with its version)
rm -f "$CACHE"/kernel-src/*.deb
find "$CACHE/kernel-build" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]\{16\}' ! -name "$KEY" -mmin +2880 \
        -exec rm -rf {} + 2>/dev/null || true
say "kernel $KREL ready in $((SECONDS - START)) s: $OUT"
echo "$OUT"
