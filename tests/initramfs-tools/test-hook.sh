#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The initramfs-tools hook (the build's, with its paths filled in) against stand-ins for
# initramfs-tools' hook-functions, on a fake DESTDIR and configuration directory: nothing of
# vfio-bind goes in (the boot script taken out again) without a configuration or when it selects
# nothing; vfio-bindd, the configuration, its drop-ins and the driver's modules go in when it
# selects a device (Driver=auto: vfio-pci and VFIO_BIND_VARIANT_MODULES; another driver: its
# module; vfio*: the vfio backend); an invalid one goes in with a warning. The hook reads the
# configuration through vfio-bindd --validate: one case runs the build's real vfio-bindd, so that
# the hook and the program agree on its answer. The boot script: no PREREQ, a name that
# mkinitramfs orders before init-top/udev, and what it runs. The real run is the two-stage QEMU
# boot (tests/vm/two-stage.sh with INITRAMFS=initramfs-tools).
#
# Usage: test-hook.sh BUILD/initramfs-tools/vfio-bind BUILD/initramfs-tools/00-vfio-bind BUILD/daemon/vfio-bindd

HOOK=$1
SCRIPT=$2
DAEMON=$3
# shellcheck source=../expect.sh
source "$(dirname "${BASH_SOURCE[0]}")/../expect.sh"

sbindir=$(sed -n 's|^VFIO_BINDD=\(/.*\)/vfio-bindd$|\1|p' "$HOOK")
[[ -n $sbindir ]] || { echo "not ok - cannot read the program's path from $HOOK"; exit 1; }

# The hook with the stand-ins: its program, its configuration directory and hook-functions.
sed -e "s|^VFIO_BINDD=.*|VFIO_BINDD=$tmp/vfio-bindd|" \
        -e "s|^SYSCONFDIR=.*|SYSCONFDIR=$tmp/etc|" \
        -e "s|^CMDLINE_FILES=.*|CMDLINE_FILES=\"$tmp/cmdline $tmp/grub.d/*.cfg\"|" \
        -e "s|^\. /usr/share/initramfs-tools/hook-functions\$|. $tmp/hook-functions|" "$HOOK" > "$tmp/hook"
chmod +x "$tmp/hook"
expect "the hook's program, configuration, command lines and hook-functions can be stood in" \
        "$(grep -c -e "^VFIO_BINDD=$tmp/" -e "^SYSCONFDIR=$tmp/" -e "^CMDLINE_FILES=\"$tmp/" -e "^\. $tmp/hook-functions" "$tmp/hook")" 4
cat > "$tmp/hook-functions" <<'STUB'
copy_exec() { echo "copy_exec $*" >>"$CALLS"; }
copy_file() { echo "copy_file $*" >>"$CALLS"; }
manual_add_modules() { echo "manual_add_modules $*" >>"$CALLS"; }
STUB
# vfio-bindd --validate as the test says ($STUB_OUT, $STUB_RC), or the build's own on
# $tmp/etc/vfio-bind.conf ($STUB_REAL).
cat > "$tmp/vfio-bindd" <<STUB
#!/bin/sh
[ "\$1" = --validate ] || { echo "unexpected \$*" >&2; exit 9; }
[ -n "\${STUB_REAL:-}" ] && exec "$DAEMON" --validate --config="$tmp/etc/vfio-bind.conf"
printf '%s\n' "\$STUB_OUT"
exit "\${STUB_RC:-0}"
STUB
chmod +x "$tmp/vfio-bindd"
mkdir -p "$tmp/etc/vfio-bind.conf.d"

# run [VAR=VALUE…]: the hook on a fresh DESTDIR holding the boot script (mkinitramfs copies the
# boot scripts before it runs the hooks); its calls in $tmp/calls, its stderr in $tmp/err
run() {
        rm -rf "$tmp/dest"
        mkdir -p "$tmp/dest/scripts/init-top"
        : > "$tmp/dest/scripts/init-top/00-vfio-bind"
        : > "$tmp/calls"
        env DESTDIR="$tmp/dest" CALLS="$tmp/calls" verbose=n "$@" "$tmp/hook" 2>"$tmp/err"
}
script_kept() { [[ -e $tmp/dest/scripts/init-top/00-vfio-bind ]] && echo kept || echo removed; }

expect "prereqs: none" "$("$tmp/hook" prereqs)" ""

run STUB_OUT="no configuration: neither /etc/vfio-bind.conf nor /etc/vfio-bind.conf.d/*.conf exists; nothing would be bound"
expect "no configuration: exit 0" "$?" 0
expect "no configuration: nothing copied" "$(cat "$tmp/calls")" ""
expect "no configuration: the boot script taken out" "$(script_kept)" removed

run STUB_OUT="/etc/vfio-bind.conf: valid: 0 selectors, 0 VirtualFunctions= lines, driver auto"
expect "selects nothing: exit 0" "$?" 0
expect "selects nothing: nothing copied" "$(cat "$tmp/calls")" ""
expect "selects nothing: the boot script taken out" "$(script_kept)" removed

# A kernel command line that selects devices (vfio-bind.device=) brings vfio-bindd in although
# the files select nothing; one in a comment does not.
mkdir -p "$tmp/grub.d"
echo '# GRUB_CMDLINE_LINUX="vfio-bind.device=01:00"' > "$tmp/grub.d/50-old.cfg"
echo 'BOOT_IMAGE=/vmlinuz root=/dev/vda quiet' > "$tmp/cmdline"
run STUB_OUT="/etc/vfio-bind.conf: valid: 0 selectors, 0 VirtualFunctions= lines, driver auto"
expect "a commented vfio-bind.device=: nothing copied" "$(cat "$tmp/calls")" ""
echo 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on vfio-bind.device=0000:01:00.0,0000:01:00.1"' > "$tmp/grub.d/60-vfio.cfg"
run STUB_OUT="/etc/vfio-bind.conf: valid: 0 selectors, 0 VirtualFunctions= lines, driver auto" verbose=y
expect "vfio-bind.device= in GRUB's defaults: exit 0" "$?" 0
expect "vfio-bind.device= in GRUB's defaults: vfio-bindd and vfio-pci go in" \
        "$(grep -c -e "^copy_exec $tmp/vfio-bindd" -e "^manual_add_modules vfio-pci$" "$tmp/calls")" 2
expect "vfio-bind.device= in GRUB's defaults: the boot script kept" "$(script_kept)" kept
rm -f "$tmp/grub.d/60-vfio.cfg"
echo 'BOOT_IMAGE=/vmlinuz root=/dev/vda vfio-bind.device=10de:2204' > "$tmp/cmdline"
run STUB_OUT="no configuration: neither /etc/vfio-bind.conf nor /etc/vfio-bind.conf.d/*.conf exists; nothing would be bound"
expect "no configuration, vfio-bind.device= on this boot's command line: vfio-bindd goes in, no file" \
        "$(grep -c -e "^copy_exec " -e "^copy_file " "$tmp/calls")" 1
expect "no configuration, vfio-bind.device= on the command line: the boot script kept" "$(script_kept)" kept
rm -f "$tmp/cmdline" "$tmp/grub.d/50-old.cfg"

printf '[Bind]\nDevice=01:00\n' > "$tmp/etc/vfio-bind.conf"
printf '[Bind]\nGroup=take\n' > "$tmp/etc/vfio-bind.conf.d/50-group.conf"
run STUB_OUT="/etc/vfio-bind.conf, /etc/vfio-bind.conf.d/50-group.conf: valid: 1 selector, 0 VirtualFunctions= lines, driver auto"
expect "a selector, Driver=auto: exit 0" "$?" 0
expect "a selector, Driver=auto: the program, the configuration, the drop-in, vfio-pci, the vfio backend" \
        "$(cat "$tmp/calls")" "copy_exec $tmp/vfio-bindd $sbindir/vfio-bindd
copy_file config $tmp/etc/vfio-bind.conf
copy_file config $tmp/etc/vfio-bind.conf.d/50-group.conf
manual_add_modules vfio-pci
manual_add_modules vfio vfio_iommu_type1"
expect "a selector: the boot script kept" "$(script_kept)" kept
expect "a selector: nothing said" "$(cat "$tmp/err")" ""

run STUB_OUT="/etc/vfio-bind.conf: valid: 1 selector, 0 VirtualFunctions= lines, driver auto" \
        VFIO_BIND_VARIANT_MODULES="mlx5_vfio_pci virtio_vfio_pci"
expect "Driver=auto with VFIO_BIND_VARIANT_MODULES: those variants too" "$(grep manual_add_modules "$tmp/calls")" \
        "manual_add_modules vfio-pci mlx5_vfio_pci virtio_vfio_pci
manual_add_modules vfio vfio_iommu_type1"

run STUB_OUT="/etc/vfio-bind.conf: valid: 1 selector, 0 VirtualFunctions= lines, driver vfio-pci" \
        VFIO_BIND_VARIANT_MODULES="mlx5_vfio_pci"
expect "Driver=vfio-pci: no variant" "$(grep manual_add_modules "$tmp/calls")" \
        "manual_add_modules vfio-pci
manual_add_modules vfio vfio_iommu_type1"

run STUB_OUT="/etc/vfio-bind.conf: valid: 0 selectors, 1 VirtualFunctions= line, driver pci-stub"
expect "only VirtualFunctions=, Driver=pci-stub: it goes in, with pci-stub alone" \
        "$(grep manual_add_modules "$tmp/calls")" "manual_add_modules pci-stub"
expect "only VirtualFunctions=: the boot script kept" "$(script_kept)" kept

run STUB_OUT="$tmp/etc/vfio-bind.conf:3: unknown key Devcie= in [Bind]" STUB_RC=1
expect "invalid: exit 0 (the initramfs is still built)" "$?" 0
expect "invalid: the diagnostic is said" "$(grep -c 'vfio-bind.conf:3: unknown key' "$tmp/err")" 1
expect "invalid: and what the boot will do" "$(grep -c 'W: vfio-bind: the configuration is invalid' "$tmp/err")" 1
expect "invalid: it goes in all the same (the boot reports it), with vfio-pci" \
        "$(grep -c -e "^copy_exec " -e "^manual_add_modules vfio-pci$" "$tmp/calls")" 2
expect "invalid: the boot script kept" "$(script_kept)" kept

run STUB_OUT="something else entirely"
expect "an answer it cannot read: warned" "$(grep -c "cannot read vfio-bindd --validate's answer" "$tmp/err")" 1
expect "an answer it cannot read: it goes in, Driver=auto" "$(grep -c "^manual_add_modules vfio-pci$" "$tmp/calls")" 1

# The build's own vfio-bindd --validate: its answer is the one the hook reads.
rm -f "$tmp/etc/vfio-bind.conf.d/50-group.conf"
printf '[Bind]\nDevice=01:00\nDriver=vfio-pci\n' > "$tmp/etc/vfio-bind.conf"
run STUB_REAL=1
expect "the real vfio-bindd, a selector, Driver=vfio-pci: vfio-pci and the backend" \
        "$(grep manual_add_modules "$tmp/calls")" "manual_add_modules vfio-pci
manual_add_modules vfio vfio_iommu_type1"
expect "the real vfio-bindd: nothing said" "$(cat "$tmp/err")" ""
printf '[Bind]\nDriver=pci-stub\n' > "$tmp/etc/vfio-bind.conf"
run STUB_REAL=1
expect "the real vfio-bindd, no selector: nothing copied" "$(cat "$tmp/calls")" ""
expect "the real vfio-bindd, no selector: the boot script taken out" "$(script_kept)" removed
printf '[Bind]\nDevcie=01:00\n' > "$tmp/etc/vfio-bind.conf"
run STUB_REAL=1
expect "the real vfio-bindd, invalid: said with its line" "$(grep -c 'vfio-bind.conf:2:' "$tmp/err")" 1
expect "the real vfio-bindd, invalid: it goes in" "$(script_kept)" kept

# The boot script: no PREREQ, and a name that mkinitramfs puts before init-top/udev. mkinitramfs
# writes "NAME NAME" for each script and "PREREQ NAME" for each prerequisite and orders them with
# tsort; Debian 12's init-top scripts (initramfs-tools, udev) have no PREREQ.
expect "boot script: prereqs none" "$(sh "$SCRIPT" prereqs)" ""
name=${SCRIPT##*/}
order=$(printf '%s %s\n' all_generic_ide all_generic_ide blacklist blacklist keymap keymap udev udev \
        "$name" "$name" | tsort | tr '\n' ' ')
expect "boot script: ordered first, before udev" "$order" "$name all_generic_ide blacklist keymap udev "
expect "boot script: runs vfio-bindd --once --in-initrd with its messages in the kernel log" \
        "$(grep -c "^SYSTEMD_LOG_TARGET=kmsg $sbindir/vfio-bindd --once --in-initrd" "$SCRIPT")" 1
sh -n "$SCRIPT" && sh -n "$HOOK"
expect "hook and boot script: sh -n" "$?" 0

expect_end
