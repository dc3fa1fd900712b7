# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
#
# The host side of a guest boot, shared by tests/vm/run.sh (the tests) and tools/demo.sh: find or
# build the image, put a payload (the build's programs and unit, a configuration, the guest
# scripts, a scenario file) after it, boot QEMU with the test machine, and cut the guest's logs
# out of the results port.
#
# The caller sets VB_DAEMON, VB_CLI, VB_UNIT (the build's files) and VM_LOGDIR, calls vm_image
# [KERNEL] and vm_setup, then per boot: vm_scenario_load FILE, vm_build_payload NAME FILE,
# vm_boot NAME. Calling vm_image again switches to another kernel's image.

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=topology.sh
source "$VM_DIR/topology.sh"

OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
VM_BOOT_TIMEOUT=${VB_VM_BOOT_TIMEOUT:-300}

# The kernels the tests know (build-image.sh --kernel): Debian's two, and 6.12 configured like
# NixOS's kernels.
VM_KERNELS_ALL=(6.1 6.12 6.12-nixos)

# no_timer_check: under TCG on a busy host the IO-APIC timer test can time out and panic.
# dyndbg makes the driver core log every probe and bind. The kprobes (vm_kprobes) log when a
# platform device lost its driver (the boot framebuffer going away) and, where the kernel has it,
# efifb's own removal. cryptomgr.notests: Debian's kernels self-test every crypto algorithm they
# register at boot (CRYPTO_MANAGER_DISABLE_TESTS is not set), about 0.9 s of TCG a boot until
# the root's PID 1 (6.12: "Run /lib/systemd/systemd" at 5.1-5.3 s, 4.2-4.3 s without; initcall_debug
# named crypto_algapi_init and the tests of the algorithms kdf108, encrypted keys and jitterentropy
# ask for); the kernel logs "alg: self-tests disabled" instead. No check looks at kernel crypto.
# shellcheck disable=SC2054
VM_APPEND_BASE=(console=ttyS0 rdinit=/lib/systemd/systemd systemd.unit=vm-test.target panic=-1
                no_timer_check systemd.show_status=false loglevel=4 cryptomgr.notests=1
                'dyndbg="func driver_bound +p; func really_probe +p"'
                tp_printk)

# vm_kprobes: the kprobe_event= argument for the image's kernel. platform_remove's first argument
# is the struct device, whose first member is the kobject, whose first member is the name: the
# line says which platform device went (6.12 has no efifb_remove). A scenario's KPROBES (more
# probes, ';'-separated) go into the same argument: the kernel keeps only the last kprobe_event=.
vm_kprobes() {
        local p='p:vm/platform_remove,platform_remove,dev=+0(+0(%di)):string'
        [[ ${VM_EFIFB_REMOVE:-0} == 1 ]] && p+=';p:vm/efifb_remove,efifb_remove'
        [[ -z ${KPROBES:-} ]] || p+=";$KPROBES"
        printf 'kprobe_event=%s' "$p"
}

# The machine: a GPU (VGA) and its audio function in one slot behind a root port (one IOMMU
# group), a NIC behind a second root port, a third root port left free for hotplug. The NIC's
# user-mode network is restricted: the guest reaches nothing.
# shellcheck disable=SC2054
VM_TOPOLOGY=(
        -device intel-iommu,intremap=on
        -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=0x2
        -device VGA,bus=rp1,addr=0x0.0,multifunction=on
        -device ich9-intel-hda,bus=rp1,addr=0x0.1
        -device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2,addr=0x3
        -device e1000e,bus=rp2,addr=0x0,netdev=nic0
        -netdev user,id=nic0,restrict=on
        -device pcie-root-port,id=rp3,bus=pcie.0,chassis=3,slot=3,addr=0x4
)

# ---- reporting, one layer for run.sh and two-stage.sh: every line of a boot has its kernel in
# front ("PASS [6.12] scenario-23: …"); VM_REPORT_NAME is the driver's name in SKIP lines

VM_REPORT_NAME=vm VM_KERNEL=''
PASSED=0 FAILED=0
log() { printf '# %s\n' "$*"; }
report_pass() { printf 'PASS %s%s\n' "${VM_KERNEL:+[$VM_KERNEL] }" "$1"; PASSED=$((PASSED + 1)); }
report_fail() { printf 'FAIL %s%s\n' "${VM_KERNEL:+[$VM_KERNEL] }" "$1"; FAILED=$((FAILED + 1)); }
summary() {
        printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
        ((FAILED == 0))
        exit $?
}
# skip WHY: the driver cannot run here: SKIP (exit 77), or a failure when REQUIRE is set
skip() {
        if ((REQUIRE)); then
                report_fail "$VM_REPORT_NAME: cannot run: $*"
                summary
        fi
        echo "SKIP $VM_REPORT_NAME: $*"
        exit 77
}

# progress SECONDS: vm_boot's progress function, every 30 s of the guest
progress() {
        (($1 % 30 == 0)) || return 0
        log "${VM_KERNEL:+[$VM_KERNEL] }$CURRENT: guest running for $1 s ($(grep -ac '^VMRESULT [PF]' "$VM_RESULTS") checks reported)"
}

# host_check TEXT FUNCTION [ARGS…]: a check on the host side (a scenario's host_checks()),
# reported like the guest's: FUNCTION returns 0, or sets WHY
host_check() {
        local text=$1
        shift
        WHY=
        if "$@"; then
                report_pass "$text"
        else
                report_fail "$text: ${WHY:-$* failed}"
        fi
}

# report_boot NAME: print the guest's results of boot NAME; a boot that ended without END is a
# failure, and so is one that reported no check
report_boot() {
        local s=$1 line kind rest ended=0 n=0 dir=$VM_LOGDIR/$1 k=${VM_KERNEL:+[$VM_KERNEL] }
        while IFS= read -r line; do
                [[ $line =~ ^VMRESULT\ ([A-Z-]+)\ (.*)$ ]] || continue
                kind=${BASH_REMATCH[1]} rest=${BASH_REMATCH[2]}
                case $kind in
                PASS) report_pass "$rest"; n=$((n + 1)) ;;
                FAIL) report_fail "$rest"; n=$((n + 1)) ;;
                TIME) printf 'TIME %s%s\n' "$k" "$rest" ;;
                INFO) printf '# %s%s\n' "$k" "$rest" ;;
                END) ended=1 ;;
                esac
        done < <(vm_result_lines)
        if ((!ended)); then
                if ((VM_BOOT_RC == 124 || VM_BOOT_RC == 137)); then
                        report_fail "$s: the guest did not finish within $VM_BOOT_LIMIT s (killed; $n checks reported; logs in $dir)"
                else
                        report_fail "$s: the guest stopped before its checks ended (qemu exit $VM_BOOT_RC; $n checks reported; logs in $dir)"
                fi
                vm_console_tail 15 | sed 's/^/#   /'
        elif ((n == 0)); then
                report_fail "$s: the guest reported no check"
        fi
}

# ---- a guest's dump (guest/lib.sh send_dump) replayed on the host, for host_checks()

DUMP_DIR=''
# replay_open LOGDIR: the guest's dump of this boot as LOGDIR/guest.tar (none if it sent none)
replay_open() {
        DUMP_DIR=$1
        rm -f "$DUMP_DIR/guest.tar"
        if [[ -s $DUMP_DIR/guest-dump-b64.log ]]; then
                base64 -d "$DUMP_DIR/guest-dump-b64.log" >"$DUMP_DIR/guest.tar" 2>/dev/null || rm -f "$DUMP_DIR/guest.tar"
        fi
        return 0
}

# replay_same NAME VERB [ARGS…]: `vfio-bind --root=THE_DUMP VERB ARGS` on the host prints what the
# guest printed (its guest-NAME.log, without run_cli's "[exit N]" line), and exits the same
replay_same() {
        local name=$1 out rc want want_rc
        shift
        [[ -s $DUMP_DIR/guest.tar ]] || { WHY="no dump came from the guest"; return 1; }
        [[ -f $DUMP_DIR/guest-$name.log ]] || { WHY="the guest sent no guest-$name.log"; return 1; }
        out=$(NO_COLOR=1 "$VB_CLI" --root="$DUMP_DIR/guest.tar" "$@" 2>&1)
        rc=$?
        printf '%s\n[exit %d]\n' "$out" "$rc" >"$DUMP_DIR/replay-$name.log"
        want=$(sed '$d' "$DUMP_DIR/guest-$name.log")
        want_rc=$(sed -n '$s/^\[exit \([0-9]*\)\]$/\1/p' "$DUMP_DIR/guest-$name.log")
        # the guest's output went through the serial port: its last line ends in \n, so the
        # [exit] line follows a line of its own; compare what $(…) keeps of both
        want=${want%$'\n'}
        [[ $out == "$want" && $rc == "$want_rc" ]] && return 0
        WHY="differs (exit $rc, guest $want_rc): $(diff <(printf '%s\n' "$want") <(printf '%s\n' "$out") | head -n 8 | tr '\n' '|')"
        return 1
}

# vm_missing_tools: prints what the host lacks, one a line
vm_missing_tools() {
        local t missing=()
        for t in qemu-system-x86_64 mmdebstrap cpio zstd depmod python3 timeout; do
                command -v "$t" >/dev/null || missing+=("$t")
        done
        [[ -r $OVMF_CODE && -r $OVMF_VARS ]] || missing+=(ovmf)
        ((${#missing[@]} == 0)) || printf '%s\n' "${missing[@]}"
}

# vm_image [KERNEL]: IMAGE = the guest image directory of KERNEL (default: VB_VM_KERNEL, else
# 6.1), built on first use, progress on stderr; VM_KERNEL, KREL and the image's kernel.env facts
# (VM_BOOT_FB, VM_EFIFB_REMOVE, …) are set from it
vm_image() {
        local k=${1:-${VB_VM_KERNEL:-6.1}}
        IMAGE=$("$VM_DIR/build-image.sh" --kernel "$k") || IMAGE=
        vm_image_use "$IMAGE"
}

# vm_image_use DIR: IMAGE = DIR, a built image; VM_KERNEL, KREL and its kernel.env facts set
vm_image_use() {
        IMAGE=$1
        [[ -n $IMAGE && -s $IMAGE/rootfs.cpio && -s $IMAGE/kernel.env ]] || return 1
        # shellcheck source=/dev/null
        source "$IMAGE/kernel.env"
        KREL=$(cat "$IMAGE/kernel-release")
}

# vm_setup: the work directory and where the unit puts the programs; call after vm_image
vm_setup() {
        VM_WORK=$(mktemp -d "${TMPDIR:-/tmp}/vfio-bind-vm.XXXXXX")
        VM_QEMU_PID=
        trap vm_cleanup EXIT
        trap 'exit 130' INT TERM
        # where the unit says the daemon is; the CLI goes to the bin/ next to its sbin/
        GUEST_DAEMON=$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$VB_UNIT" | head -n1)
        [[ $GUEST_DAEMON == /* ]] || { echo "cannot read ExecStart= from $VB_UNIT" >&2; return 1; }
        GUEST_CLI=${GUEST_DAEMON%/*/*}/bin/vfio-bind
}

vm_cleanup() {
        local j
        [[ -n ${VM_QEMU_PID:-} ]] && kill "$VM_QEMU_PID" 2>/dev/null
        # the pool's boots and the image builds in the background (each boot's subshell kills its
        # QEMU on the way out)
        for j in $(jobs -p); do
                kill "$j" 2>/dev/null
        done
        wait 2>/dev/null
        [[ -n ${VM_WORK:-} ]] && rm -rf "$VM_WORK"
}

# vm_scenario_load FILE: reset the scenario settings to their defaults, then read FILE
#   DESCRIPTION  one line for the log
#   IOMMU        on (intel_iommu=on) or off (intel_iommu=off)
#   APPEND       more kernel command line
#   CONF         the text of /etc/vfio-bind.conf ("" for none)
#   SERVICE      enabled (vfio-bind.service in sysinit.target.wants) or disabled
#   HOTPLUG      QMP device_add arguments, run when the guest asks (HOTPLUG-REQUEST)
#   QEMU_EXTRA   more QEMU arguments for this boot (an array: a disk, a root port for it)
#   KERNELS      the kernels this scenario boots on (default: Debian's, "6.1 6.12"; a scenario
#                where the kernel's configuration matters adds 6.12-nixos)
#   GUEST_QEMU   yes: the image's nested.cpio.zst (QEMU for a VM inside the guest) comes along
#   LIBVIRT      yes: libvirt in the guest (libvirtd with the QEMU driver, virsh): the image's
#                libvirt.cpio.zst comes along after nested.cpio.zst (so GUEST_QEMU=yes), and the
#                payload gets a libvirtd.conf that logs libvirt's PCI, hostdev and hook code at
#                debug level to /var/log/libvirt/libvirtd.log
#   LIBVIRT_HOOK yes: the build's libvirt hook (run.sh --libvirt-hook) is installed as
#                /etc/libvirt/hooks/qemu.d/vfio-bind before libvirtd starts (so LIBVIRT=yes);
#                without --libvirt-hook run.sh leaves such a scenario out
#   QMP_REQUESTS yes: the guest may send QMP commands, any number, in order (`qmp_request
#                COMMAND [KEY=VALUE…]` in guest/lib.sh); the host runs each once, retrying a
#                failed one for a few seconds (a slot still being freed), and logs to qmp.log
#   KPROBES      more boot-time kprobes for kprobe_event= (';'-separated; tp_printk puts their
#                hits into the kernel log)
#   VCPUS        vCPUs of this guest (default: VM_SMP, one when guests boot side by side): a
#                scenario whose load runs several processes at once in the guest (a uevent storm)
#                asks for 2
#   BOOT_SECONDS the least hard limit this boot needs (a long scenario); the limit is the larger
#                of it and VM_BOOT_TIMEOUT
#   MEMORY       the guest's RAM in MiB (default 1024: the guest's kernel initializes every
#                page of it under TCG, and 2048 cost about 5% more CPU a boot); a scenario that
#                runs a nested VM or a load asks for more
#   FIRMWARE     uefi (OVMF, the default: the EFI framebuffer the console checks look at) or
#                bios (SeaBIOS, and the image's vmlinux through its PVH entry point when it has
#                one: under TCG about 0.8 s of CPU until the kernel's first line, against 8-9 s
#                for OVMF and the bzImage (3 s of it the xz decompressor of Debian's kernels);
#                no efi-framebuffer, so only for scenarios that never look at the boot console
#                or the GPU)
#   payload()    adds files under the payload root $1 (runs on the host)
#   checks()     runs in the guest (see guest/lib.sh)
#   host_checks() runs on the host after the boot, with the boot's log directory as $1 (what the
#                guest sent out: its dumps, the CLI's outputs); a check there is
#                `host_check TEXT FUNCTION [ARGS…]` (run.sh), FUNCTION setting WHY when it fails
vm_scenario_load() {
        DESCRIPTION='' IOMMU=on APPEND='' CONF='' SERVICE=enabled HOTPLUG='' KPROBES='' QMP_REQUESTS=no
        VCPUS='' BOOT_SECONDS='' FIRMWARE=uefi MEMORY=1024
        KERNELS="6.1 6.12" GUEST_QEMU=no LIBVIRT=no LIBVIRT_HOOK=no
        QEMU_EXTRA=()
        payload() { :; }
        checks() { :; }
        host_checks() { :; }
        # shellcheck source=/dev/null
        source "$1"
        [[ $FIRMWARE == uefi || $FIRMWARE == bios ]] || { echo "$1: FIRMWARE is uefi or bios, not $FIRMWARE" >&2; return 1; }
        [[ $LIBVIRT_HOOK != yes ]] || LIBVIRT=yes
        [[ $LIBVIRT != yes ]] || GUEST_QEMU=yes
}

# vm_boot_limit: the hard limit of the scenario's boot in seconds (VM_BOOT_TIMEOUT, or the
# scenario's BOOT_SECONDS when that is larger)
vm_boot_limit() {
        local l=$VM_BOOT_TIMEOUT
        [[ -n ${BOOT_SECONDS:-} ]] && ((BOOT_SECONDS > l)) && l=$BOOT_SECONDS
        echo "$l"
}

# install_file SRC DEST MODE: copy into the payload root $P
install_file() {
        mkdir -p "$P$(dirname "$2")"
        install -m "$3" "$1" "$P$2"
}

# early_modules_unit ROOT MODULE…: a unit that loads MODULEs before vfio-bind.service, as the
# initrd would (for payload())
early_modules_unit() {
        local root=$1
        shift
        cat > "$root/etc/systemd/system/vm-early-modules.service" <<UNIT
# Loads host drivers before vfio-bind.service, as the initrd would.
[Unit]
Description=Load host drivers early (stands in for the initrd)
DefaultDependencies=no
After=vm-uevents.service
Before=vfio-bind.service sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/modprobe -a $*
UNIT
        ln -s ../vm-early-modules.service "$root/etc/systemd/system/sysinit.target.wants/vm-early-modules.service"
}

# install_libs BINARY: the shared libraries it needs that the image lacks (an ASan build needs
# libasan, …), at their /usr path (the image has merged /usr); the overlays this boot appends
# count as the image (the libvirt hook's libxml2 is in libvirt.cpio.zst)
install_libs() {
        local lib real manifests=("$IMAGE/manifest")
        [[ $GUEST_QEMU != yes || ! -s $IMAGE/nested.manifest ]] || manifests+=("$IMAGE/nested.manifest")
        [[ $LIBVIRT != yes || ! -s $IMAGE/libvirt.manifest ]] || manifests+=("$IMAGE/libvirt.manifest")
        while read -r lib; do
                real=$(readlink -f "$lib")
                lib=/usr${lib#/usr}
                grep -qxF -e "$lib" -e "${lib#/usr}" "${manifests[@]}" && continue
                install_file "$real" "$lib" 0644
        done < <(ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p')
}

# The units and generators of a Debian boot that no check looks at (login prompts, utmp, the
# random seed, users made at boot, file systems and modules for disks the guest does not have):
# each costs a fork, an exec and a unit's bookkeeping under TCG, about 15% of a boot's CPU time
# until the checks start (measured on 00-baseline, 09-cli and 14-release-console: 40.6 -> 34.3
# CPU seconds a boot). Masked in the payload's /etc for run.sh's boots, where the image is the
# initramfs; in two-stage.sh's root tree only once the initrd is made (its dracut and
# update-initramfs build from the same root), so that they are masked in the root's boot alone.
VM_TRIM_UNITS=(getty-static.service getty@.service systemd-user-sessions.service
        systemd-update-utmp.service systemd-update-utmp-runlevel.service systemd-random-seed.service
        systemd-sysusers.service systemd-remount-fs.service systemd-journal-flush.service
        systemd-pstore.service systemd-tmpfiles-clean.timer systemd-journald-audit.socket
        systemd-initctl.socket modprobe@configfs.service modprobe@dm_mod.service
        modprobe@efi_pstore.service modprobe@fuse.service modprobe@loop.service
        sys-fs-fuse-connections.mount sys-kernel-config.mount dev-hugepages.mount dev-mqueue.mount)
VM_TRIM_GENERATORS=(cryptsetup fstab getty gpt-auto hibernate-resume integritysetup rc-local run
        system-update sysv veritysetup)

# vm_payload_trim [ROOT]: mask VM_TRIM_UNITS and VM_TRIM_GENERATORS in ROOT's /etc (default: the
# payload root $P)
vm_payload_trim() {
        local u root=${1:-$P}
        mkdir -p "$root/etc/systemd/system" "$root/etc/systemd/system-generators"
        for u in "${VM_TRIM_UNITS[@]}"; do
                ln -sf /dev/null "$root/etc/systemd/system/$u"
        done
        for u in "${VM_TRIM_GENERATORS[@]}"; do
                ln -sf /dev/null "$root/etc/systemd/system-generators/systemd-$u-generator"
        done
}

# Where libvirtd (≥ 6.5) finds the hook: it runs every executable of /etc/libvirt/hooks/qemu.d/,
# a directory it reads when it starts.
VM_LIBVIRT_HOOK_PATH=/etc/libvirt/hooks/qemu.d/vfio-bind

# vm_payload_libvirt: libvirt's part of the payload root $P (LIBVIRT=yes): libvirtd's logging,
# and with LIBVIRT_HOOK=yes the build's hook (VB_LIBVIRT_HOOK) where libvirtd runs it
vm_payload_libvirt() {
        # the overlays leave /var/log out (what the packages' installation logged): libvirtd does
        # not start without its log directory
        mkdir -p "$P/etc/libvirt" "$P/var/log/libvirt/qemu"
        # what libvirt decides about a host device (util.pci: detach, bind to the stub, reattach;
        # util.hostdev: managed or not, the lists of active and inactive devices; util.hook: the
        # hooks it runs) at debug level into a file the checks send to the host; the rest as
        # Debian has it (warnings and errors to the journal)
        cat > "$P/etc/libvirt/libvirtd.conf" <<'CONF'
log_filters="1:util.pci 1:util.hostdev 1:util.hook 1:qemu.qemu_hostdev"
log_outputs="1:file:/var/log/libvirt/libvirtd.log 3:journald"
CONF
        [[ $LIBVIRT_HOOK == yes ]] || return 0
        [[ -n ${VB_LIBVIRT_HOOK:-} && -f $VB_LIBVIRT_HOOK ]] ||
                { echo "LIBVIRT_HOOK=yes and no hook (run.sh --libvirt-hook)" >&2; return 1; }
        install_file "$VB_LIBVIRT_HOOK" "$VM_LIBVIRT_HOOK_PATH" 0755
        install_libs "$VB_LIBVIRT_HOOK"
}

# vm_build_payload NAME FILE: $VM_WORK/initrd.img = the image + a cpio with the programs, the
# unit, the configuration, the guest scripts and the scenario FILE
vm_build_payload() {
        local name=$1 file=$2 u f
        P=$VM_WORK/payload
        rm -rf "$P"
        mkdir -p "$P/vm" "$P/etc/systemd/system/sysinit.target.wants"

        install_file "$VB_DAEMON" "$GUEST_DAEMON" 0755
        install_file "$VB_CLI" "$GUEST_CLI" 0755
        install_libs "$VB_DAEMON"
        install_libs "$VB_CLI"
        install_file "$VB_UNIT" /etc/systemd/system/vfio-bind.service 0644
        if [[ $SERVICE == enabled ]]; then
                ln -s ../vfio-bind.service "$P/etc/systemd/system/sysinit.target.wants/vfio-bind.service"
        fi
        [[ -z $CONF ]] || printf '%s\n' "$CONF" > "$P/etc/vfio-bind.conf"

        for u in vm-test.target vm-check.service vm-uevents.service display-manager.service; do
                install_file "$VM_DIR/guest/$u" "/etc/systemd/system/$u" 0644
        done
        # The checks may take as long as the boot may (bench/faults.sh --vm: an hour), not the
        # unit's own 10 minutes; the host's limit (vm_boot_limit) still ends the boot.
        mkdir -p "$P/etc/systemd/system/vm-check.service.d"
        printf '[Service]\nTimeoutStartSec=%ss\n' "$(vm_boot_limit)" >"$P/etc/systemd/system/vm-check.service.d/timeout.conf"
        ln -s ../vm-uevents.service "$P/etc/systemd/system/sysinit.target.wants/vm-uevents.service"
        [[ ${VM_PAYLOAD_TRIM:-no} != yes ]] || vm_payload_trim
        install_file "$VM_DIR/guest/emergency.service" /etc/systemd/system/emergency.service 0644
        install_file "$VM_DIR/guest/emergency.service" /etc/systemd/system/rescue.service 0644
        install_file "$VM_DIR/guest/emergency" /vm/emergency 0755
        for f in "$VM_DIR"/guest/lib*.sh; do
                install_file "$f" "/vm/${f##*/}" 0644
        done
        install_file "$VM_DIR/topology.sh" /vm/topology.sh 0644
        install_file "$VM_DIR/guest/run-checks" /vm/run-checks 0755
        install_file "$VM_DIR/guest/uevents-ready" /vm/uevents-ready 0755
        install_file "$file" /vm/scenario.sh 0644
        install_file "$IMAGE/kernel.env" /vm/kernel.env 0644
        {
                printf 'BOOT_NAME=%q\n' "$name"
                printf 'VB_DAEMON=%q\n' "$GUEST_DAEMON"
                printf 'VB_CLI=%q\n' "$GUEST_CLI"
                # a sanitizer build: the guest also looks for the sanitizers' reports
                if ldd "$VB_DAEMON" "$VB_CLI" 2>/dev/null | grep -e libasan -e libubsan >/dev/null; then
                        printf 'VB_SANITIZED=1\n'
                fi
                [[ $LIBVIRT_HOOK != yes ]] || printf 'VB_LIBVIRT_HOOK=%q\n' "$VM_LIBVIRT_HOOK_PATH"
        } > "$P/vm/env"
        [[ $LIBVIRT != yes ]] || vm_payload_libvirt || return 1
        payload "$P" || return 1
        (cd "$P" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$VM_WORK/payload.cpio" || return 1
        # the kernel reads an uncompressed cpio only at a 4-byte boundary (a compressed one may
        # follow another directly): the payload starts at the next 512 bytes
        local images=("$IMAGE/rootfs.cpio") size=0 f
        [[ $GUEST_QEMU != yes ]] || images+=("$IMAGE/nested.cpio.zst")
        if [[ $LIBVIRT == yes ]]; then
                [[ -s $IMAGE/libvirt.cpio.zst ]] || { echo "$IMAGE has no libvirt.cpio.zst" >&2; return 1; }
                images+=("$IMAGE/libvirt.cpio.zst")
        fi
        for f in "${images[@]}"; do
                size=$((size + $(stat -c %s "$f")))
        done
        { cat "${images[@]}"
          head -c $(( (512 - size % 512) % 512 )) /dev/zero
          cat "$VM_WORK/payload.cpio"; } > "$VM_WORK/initrd.img"
}

# vm_qmp_requests DIR START: run the guest's QMP requests not run yet ("VMRESULT QMP-REQUEST SEQ
# COMMAND [KEY=VALUE…]" lines), in order; each gets a "SEQ ok|failed COMMAND" line in
# DIR/qmp-requests.log. A failed one is tried again for up to 10 s (device_add into a slot whose
# last device QEMU is still removing).
VM_QMP_DONE=0
vm_qmp_requests() {
        local dir=$1 start=$2 reqs words try ok lines
        # Only whole lines: the guest may be in the middle of writing the last one (a request cut
        # to "device_del id=c6" or "d" would be sent as it is, and counted as done).
        lines=$(tr -dc '\n' < "$VM_RESULTS" | wc -c)
        mapfile -t reqs < <(head -n "$lines" "$VM_RESULTS" | tr -d '\r' | sed -n 's/^VMRESULT QMP-REQUEST //p')
        for ((; VM_QMP_DONE < ${#reqs[@]}; VM_QMP_DONE++)); do
                read -r -a words <<<"${reqs[VM_QMP_DONE]}"
                ok=failed
                for ((try = 0; try < 40; try++)); do
                        if python3 "$VM_DIR/qmp.py" "$VM_WORK/qmp.sock" "${words[@]:1}" >>"$dir/qmp.log" 2>&1; then
                                ok=ok
                                break
                        fi
                        sleep 0.25
                done
                printf '%s %s %s at %d s (%d tries)\n' "${words[0]}" "$ok" "${words[*]:1}" $((SECONDS - start)) $((try + 1)) >>"$dir/qmp-requests.log"
        done
}

# vm_boot NAME [PROGRESS_FN]: boot the payload; the logs go to $VM_LOGDIR/NAME/ (console.log,
# results.log, and the guest's dumps cut out of it: dmesg.log, journal.log, …). PROGRESS_FN is
# called about every second with the seconds since the start. Sets VM_RESULTS, VM_BOOT_SECONDS,
# VM_BOOT_RC (124 or 137: killed at the limit, VM_BOOT_LIMIT: vm_boot_limit).
vm_boot() {
        local name=$1 progress=${2:-} dir append start hotplug_done=0 last=-1
        dir=$VM_LOGDIR/$name
        rm -rf "$dir"
        mkdir -p "$dir"
        append=("${VM_APPEND_BASE[@]}" "$(vm_kprobes)")
        # Debian's 6.1 turns the Intel IOMMU on by default (INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y),
        # so "off" has to be said, not only "on" left out
        if [[ $IOMMU == on ]]; then
                append+=(intel_iommu=on)
        else
                append+=(intel_iommu=off)
        fi
        # shellcheck disable=SC2206
        append+=($APPEND)

        local firmware=() kernel=$IMAGE/vmlinuz
        if [[ ${FIRMWARE:-uefi} == uefi ]]; then
                cp "$OVMF_VARS" "$VM_WORK/vars.fd"
                firmware=(-drive if=pflash,format=raw,unit=0,readonly=on,file="$OVMF_CODE"
                          -drive if=pflash,format=raw,unit=1,file="$VM_WORK/vars.fd")
        elif [[ -s $IMAGE/vmlinux ]]; then
                # SeaBIOS: the decompressed kernel through its PVH entry point (build-image.sh)
                kernel=$IMAGE/vmlinux
        fi
        rm -f "$VM_WORK/qmp.sock"
        VM_RESULTS=$dir/results.log
        VM_QMP_DONE=0
        : > "$VM_RESULTS"
        start=$SECONDS
        VM_BOOT_LIMIT=$(vm_boot_limit)
        timeout --kill-after=10 "$VM_BOOT_LIMIT" \
                qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp "${VCPUS:-${VM_SMP:-2}}" -m "$MEMORY" \
                -nodefaults -no-user-config -display none -no-reboot \
                "${firmware[@]}" \
                -kernel "$kernel" -initrd "$VM_WORK/initrd.img" -append "${append[*]}" \
                -serial file:"$dir/console.log" -serial file:"$VM_RESULTS" \
                -qmp unix:"$VM_WORK/qmp.sock",server=on,wait=off \
                "${VM_TOPOLOGY[@]}" "${QEMU_EXTRA[@]}" \
                >"$dir/qemu.log" 2>&1 &
        VM_QEMU_PID=$!

        while kill -0 "$VM_QEMU_PID" 2>/dev/null; do
                # the host's part of a hotplug scenario
                if [[ -n $HOTPLUG ]] && ((!hotplug_done)) && grep -aq '^VMRESULT HOTPLUG-REQUEST' "$VM_RESULTS"; then
                        hotplug_done=1
                        # shellcheck disable=SC2086
                        if python3 "$VM_DIR/qmp.py" "$VM_WORK/qmp.sock" device_add $HOTPLUG >>"$dir/qmp.log" 2>&1; then
                                printf '# %s: hot-added %s through QMP at %d s\n' "$name" "$HOTPLUG" $((SECONDS - start))
                        else
                                printf '# %s: QMP device_add %s failed: %s\n' "$name" "$HOTPLUG" "$(tail -n1 "$dir/qmp.log")"
                        fi
                fi
                # a fifth of a second: the pool starts the next boot as soon as this one ends
                # (polling each second left a core idle for a second a boot on average)
                if [[ $QMP_REQUESTS == yes ]]; then
                        vm_qmp_requests "$dir" "$start"
                        sleep 0.1
                else
                        sleep 0.2
                fi
                ((SECONDS - start == last)) || { last=$((SECONDS - start)); [[ -z $progress ]] || "$progress" "$last"; }
        done
        wait "$VM_QEMU_PID"
        VM_BOOT_RC=$?
        VM_QEMU_PID=
        VM_BOOT_SECONDS=$((SECONDS - start))
        # cut the guest's dumps into files
        tr -d '\r' < "$VM_RESULTS" | awk -v dir="$dir" '
                /^VMDUMP-BEGIN / { out = dir "/" $2 ".log"; printf "" > out; next }
                /^VMDUMP-END /   { close(out); out = ""; next }
                out != ""        { print >> out }'
}

# vm_result_lines: the guest's VMRESULT lines of the last boot, without the dumps and the \r
vm_result_lines() {
        tr -d '\r' < "$VM_RESULTS" | sed -n '/^VMDUMP-BEGIN/,/^VMDUMP-END/!p' | grep -a '^VMRESULT '
}

# vm_console_tail N: the last N lines of the last boot's console, escape codes removed
vm_console_tail() {
        tail -n "$1" "$(dirname "$VM_RESULTS")/console.log" 2>/dev/null | tr -d '\r' |
                sed 's/\x1b\[[0-9;=]*[A-Za-z]//g'
}

# ---------------------------------------------------------------------------------------------
# Several guests at a time. Under TCG a guest is a process that keeps a host core busy while it
# boots and sits idle while its checks wait; two single-vCPU guests on the two cores of a CI
# machine finish a list of boots in far less time than one two-vCPU guest after the other
# (tests/vm/README.md, "Time").

# vm_pool_config: VM_JOBS = guests at a time (VB_VM_JOBS, default: the host's cores, at most 4),
# VM_SMP = vCPUs per guest (VB_VM_SMP, default: the cores shared among the guests, at least 1)
vm_pool_config() {
        local cores
        cores=$(nproc 2>/dev/null || echo 2)
        VM_JOBS=${VB_VM_JOBS:-$((cores < 4 ? cores : 4))}
        [[ $VM_JOBS =~ ^[1-9][0-9]*$ ]] || VM_JOBS=1
        VM_SMP=${VB_VM_SMP:-$((cores / VM_JOBS))}
        [[ $VM_SMP =~ ^[1-9][0-9]*$ ]] || VM_SMP=1
}

# vm_images_prepare KERNEL…: build (or find) the image of each KERNEL, in order, in the background;
# KERNEL's directory lands in $VM_WORK/image.KERNEL.dir (empty when the build failed), its
# progress in image.KERNEL.log. Boots of the first kernel can start while the later ones build.
vm_images_prepare() {
        local k
        (
                for k in "$@"; do
                        local start=$SECONDS dir
                        dir=$("$VM_DIR/build-image.sh" --kernel "$k" 2>"$VM_WORK/image.$k.log") || dir=
                        printf '%s\n' "$((SECONDS - start))" >"$VM_WORK/image.$k.seconds"
                        printf '%s\n' "$dir" >"$VM_WORK/image.$k.dir.tmp"
                        mv "$VM_WORK/image.$k.dir.tmp" "$VM_WORK/image.$k.dir"
                done
        ) </dev/null &
        VM_IMAGES_PID=$!
}

# vm_image_ready KERNEL: 0 when KERNEL's image is built (IMAGE_DIR set), 1 while it is being
# built, 2 when it could not be built
vm_image_ready() {
        local f=$VM_WORK/image.$1.dir
        if [[ ! -f $f ]]; then
                kill -0 "$VM_IMAGES_PID" 2>/dev/null && return 1
                # the builds ended (killed?) without a word about this kernel
                [[ -f $f ]] || { echo "the image builds ended without building kernel $1's" >>"$VM_WORK/image.$1.log"; : >"$f"; }
        fi
        IMAGE_DIR=$(cat "$f")
        [[ -n $IMAGE_DIR ]] || return 2
}

# vm_pool_image_ready "KERNEL …": a READY_FN for vm_pool_run whose items boot KERNEL's image: 0
# when the image is there, 1 while it is being built, 2 when it could not be built. The first time
# a kernel's image is found (or has failed), its build's messages are printed, then a TIME line
# (VM_POOL_WHAT names the image, "image" or "two-stage image") or the failure (report_fail of the
# caller, once). The TIME line says when the pool first found the image, not when its build ended.
declare -A VM_POOL_IMAGE_SEEN=()
vm_pool_image_ready() {
        local kernel=${1%% *} r
        vm_image_ready "$kernel"
        r=$?
        ((r == 1)) && return 1
        if [[ -z ${VM_POOL_IMAGE_SEEN[$kernel]:-} ]]; then
                VM_POOL_IMAGE_SEEN[$kernel]=1
                sed 's/^/# /' "$VM_WORK/image.$kernel.log"
                if ((r == 2)); then
                        report_fail "[$kernel] the guest ${VM_POOL_WHAT:-image} could not be built (see the messages above)"
                else
                        printf 'TIME [%s] %s: ready %d s after the start (%d s building or finding it)\n' "$kernel" \
                                "${VM_POOL_WHAT:-image}" $((SECONDS - VM_POOL_START)) "$(cat "$VM_WORK/image.$kernel.seconds")"
                fi
        fi
        return "$r"
}

# vm_pool_run BOOT_FN READY_FN ITEM…: BOOT_FN ITEM for every ITEM, VM_JOBS at a time, each in a
# subshell with a work directory of its own ($VM_WORK is that directory there) and its output in
# a file, which is printed whole when the boot ends, so that the report reads one boot at a time.
# READY_FN ITEM says whether ITEM can start: 0 yes, 1 not yet (its image is being built; a
# later ITEM may start first), 2 never (READY_FN reported why; ITEM is dropped). PASS and FAIL
# lines are counted into PASSED and FAILED; a boot whose subshell ended without reporting a
# check, or with a status other than 0 or 1, is a failure. VM_POOL_SECONDS[KERNEL] adds up each
# kernel's boots (an ITEM is "KERNEL SCENARIO"), VM_POOL_BOOTS[KERNEL] counts them.
declare -A VM_POOL_SECONDS=() VM_POOL_BOOTS=()
vm_pool_run() {
        local boot_fn=$1 ready_fn=$2
        shift 2
        local queue=("$@") pids=() items=() outs=() i r started n=0 out
        VM_POOL_BASE=$VM_WORK VM_POOL_START=$SECONDS
        while ((${#queue[@]} || ${#pids[@]})); do
                # start what can start, in order, skipping items that wait for their image
                started=1
                while ((started && ${#pids[@]} < VM_JOBS)); do
                        started=0
                        for i in "${!queue[@]}"; do
                                "$ready_fn" "${queue[i]}"
                                r=$?
                                ((r == 1)) && continue
                                if ((r == 0)); then
                                        n=$((n + 1))
                                        out=$VM_POOL_BASE/pool.$n
                                        vm_pool_job "$boot_fn" "${queue[i]}" "$out" >"$out.out" 2>&1 &
                                        pids+=($!) items+=("${queue[i]}") outs+=("$out")
                                fi
                                unset 'queue[i]'
                                queue=("${queue[@]}")
                                started=1
                                break
                        done
                done
                sleep 0.2
                for i in "${!pids[@]}"; do
                        kill -0 "${pids[i]}" 2>/dev/null && continue
                        wait "${pids[i]}"
                        vm_pool_collect "${items[i]}" "${outs[i]}" $?
                        unset 'pids[i]' 'items[i]' 'outs[i]'
                done
                pids=("${pids[@]}") items=("${items[@]}") outs=("${outs[@]}")
        done
}

# vm_pool_job BOOT_FN ITEM OUT: one boot in a subshell (see vm_pool_run); OUT.seconds gets the
# boot's seconds
vm_pool_job() {
        local boot_fn=$1 item=$2 out=$3
        VM_WORK=$out.work
        mkdir -p "$VM_WORK"
        VM_QEMU_PID=
        trap 'vm_cleanup' EXIT
        trap 'exit 130' INT TERM
        local start=$SECONDS
        "$boot_fn" "$item"
        printf '%s\n' "$((SECONDS - start))" >"$out.seconds"
}

# vm_pool_collect ITEM OUT STATUS: print a finished boot's output and count its checks
vm_pool_collect() {
        local item=$1 out=$2 status=$3 p f k=${1%% *} secs=0
        cat "$out.out"
        p=$(grep -c '^PASS ' "$out.out")
        f=$(grep -c '^FAIL ' "$out.out")
        PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
        if ((status > 1 || p + f == 0)); then
                report_fail "[$k] ${item#* }: the boot's job ended with status $status and $((p + f)) checks reported"
        fi
        [[ -s $out.seconds ]] && secs=$(cat "$out.seconds")
        VM_POOL_SECONDS[$k]=$((${VM_POOL_SECONDS[$k]:-0} + secs))
        VM_POOL_BOOTS[$k]=$((${VM_POOL_BOOTS[$k]:-0} + 1))
        rm -rf "$out.out" "$out.work" "$out.seconds"
}
