#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install everything vfio-bind needs to build and test on Debian 12 (run as root).
#   tools/deps.sh            build + unit tests + checks + the QEMU tests
#   tools/deps.sh build      only what building needs
#   tools/deps.sh dev        the developer tools CI does not run: gcovr (tools/coverage.sh)
set -eu
cd "$(dirname "$0")/.."

BUILD="meson ninja-build pkg-config gcc libc6-dev libudev-dev libkmod-dev libsystemd-dev libxml2-dev systemd scdoc"
# Not in "all": CI never runs them.
DEV="gcovr"
TEST="debhelper dpkg-dev fakeroot lintian e2fsprogs umockdev libumockdev-dev valgrind clang libclang-rt-14-dev bash-completion zsh nix-bin python3"

if [ "$(id -u)" != 0 ]; then
        echo "tools/deps.sh: run as root (it uses apt-get)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
case "${1:-all}" in
build)
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $BUILD
        ;;
dev)
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $DEV
        ;;
all)
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $BUILD $TEST
        sh tests/vm/install-deps.sh
        ;;
*)
        echo "tools/deps.sh: unknown set \"$1\" (build, all, dev)" >&2
        exit 2
        ;;
esac
