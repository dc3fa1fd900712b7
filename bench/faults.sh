#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerate bench/FAULTS.md: what the daemon survives, in figures (issue 16).
#
#   bench/faults.sh                 kills (runs the crash tests, ~15 s), then the figures of the
#                                   last fuzz run and mutation run as they were left
#   bench/faults.sh --fuzz 180      also run the fuzzers first: tools/fuzz.sh 180 with
#                                   VB_FUZZ_RUNS=10000000 (10 M or 180 s per target)
#   bench/faults.sh --mutate        also run tools/mutate.sh first (about a minute per mutant)
#   bench/faults.sh --vm            also boot the QEMU load scenarios at full size (tests/vm 30-storm,
#                                   31-churn, 32-kill on 6.12; as root the first time, for the image;
#                                   about 25 min on 2 cores: 30-storm 6, 31-churn 16, 32-kill 2) and fill sections 4-7 from them
#   bench/faults.sh --vm-from FILE  fill sections 4-7 from a kept run.sh output (no boot);
#                                   bench/faults-vm.out is the one FAULTS.md's figures come from
#   bench/faults.sh --out FILE      write FILE instead of bench/FAULTS.md
#
# Sources: the crash tests of tests/test-faults.c ("killed after …: converged" lines) from the
# build in $VB_FAULTS_BUILD (default build-dev, configured if missing), the fuzzers' logs in
# $VB_FUZZ_BUILD (default build-fuzz: fuzz-TARGET.log, artifacts/), the mutation run's
# $VB_MUTATE_DIR/mutate.txt (default .mutate/; mutate-first-run.txt there, a copy of an earlier
# full run kept before re-running its survivors, is quoted too). Reliability is reported, never timed: nothing
# here fails because the machine is slow; the script fails only when a kill did not converge.
# The QEMU sections (uevent storm, hotplug churn, memory and fds, kills) come from the run.sh
# output of --vm (kept as $VB_VM_LOGDIR/run.out, default /tmp/vfio-bind-faults-vm) or --vm-from;
# without either they are kept as they are in the existing FAULTS.md, between their markers.
# --vm's sizes: VB_STORM_UEVENTS (30000), VB_STORM_WRITERS (4), VB_CHURN_CYCLES (300),
# VB_KILL_TRIES (5); its binaries: the build in $VB_VM_BUILD (default build-rel, configured as a
# release build if missing).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
out=$top/bench/FAULTS.md
build=${VB_FAULTS_BUILD:-$top/build-dev}
fuzz_build=${VB_FUZZ_BUILD:-$top/build-fuzz}
mutate_dir=${VB_MUTATE_DIR:-$top/.mutate}
fuzz_seconds= mutate= vm= vm_out=

while [ $# -gt 0 ]; do
        case $1 in
        --fuzz) fuzz_seconds=$2; shift 2 ;;
        --mutate) mutate=1; shift ;;
        --vm) vm=1; shift ;;
        --vm-from) vm_out=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h | --help) sed -n '3,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "bench/faults.sh: unknown argument $1" >&2; exit 2 ;;
        esac
done

if [ ! -f "$build/build.ninja" ]; then
        meson setup "$build" -Dvm-tests=disabled -Dman-pages=disabled >/dev/null || exit 1
fi
ninja -C "$build" tests/test-faults >/dev/null || exit 1

if [ -n "$fuzz_seconds" ]; then
        VB_FUZZ_RUNS=10000000 VB_FUZZ_BUILD=$fuzz_build tools/fuzz.sh "$fuzz_seconds" || true
fi
if [ -n "$mutate" ]; then
        VB_MUTATE_DIR=$mutate_dir tools/mutate.sh || true
fi

if [ -n "$vm" ]; then
        vm_build=${VB_VM_BUILD:-$top/build-rel}
        vm_logdir=${VB_VM_LOGDIR:-/tmp/vfio-bind-faults-vm}
        if [ ! -f "$vm_build/build.ninja" ]; then
                meson setup "$vm_build" --buildtype=release >/dev/null || exit 1
        fi
        ninja -C "$vm_build" >/dev/null || exit 1
        mkdir -p "$vm_logdir"
        vm_out=$vm_logdir/run.out
        VB_VM_KERNELS=${VB_VM_KERNELS:-6.12} VB_VM_BOOT_TIMEOUT=${VB_VM_BOOT_TIMEOUT:-3600} \
        VB_STORM_UEVENTS=${VB_STORM_UEVENTS:-30000} VB_STORM_WRITERS=${VB_STORM_WRITERS:-4} \
        VB_CHURN_CYCLES=${VB_CHURN_CYCLES:-300} VB_KILL_TRIES=${VB_KILL_TRIES:-5} \
                tests/vm/run.sh --daemon "$vm_build/daemon/vfio-bindd" --cli "$vm_build/cli/vfio-bind" \
                --unit "$vm_build/systemd/vfio-bind.service" --floor "$vm_build/tests/vm/uevent-floor" \
                --logdir "$vm_logdir" 30-storm 31-churn 32-kill \
                2>&1 | tee "$vm_out"
fi

kills=$(mktemp)
trap 'rm -f "$kills"' EXIT
status=0
for t in killed_at_any_step_of_a_gpu_bind killed_at_any_step_of_a_group_take killed_at_any_step_of_an_unbound_bind \
        killed_at_any_step_of_vf_creation; do
        (cd "$build" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 VB_TEST_DATA=$top/tests ./tests/test-faults "$t") \
                >>"$kills" 2>&1 || status=1
done

python3 - "$out" "$kills" "$fuzz_build" "$mutate_dir" "$(git rev-parse --short HEAD)" "$vm_out" <<'EOF'
import glob, os, re, sys, time

out, kills, fuzz_build, mutate_dir, commit, vm_out = sys.argv[1:7]
text = open(kills, errors="replace").read()

def keep(section, kind="qemu"):
    """A QEMU section (or another KIND of kept section) as the existing report has it, between
    its markers."""
    try:
        old = open(out).read()
    except OSError:
        return None
    m = re.search(r"<!-- %s:%s -->\n(.*?)<!-- /%s:%s -->" % (kind, section, kind, section), old, re.S)
    return m.group(1) if m else None

def figures(text, name):
    """Every "# [KERNEL] NAME: k=v k=v" line of a run.sh output, as (kernel, dict)."""
    res = []
    for k, body in re.findall(r"^# \[(\S+)\] %s: (.*)$" % re.escape(name), text, re.M):
        res.append((k, dict(kv.split("=", 1) for kv in body.split() if "=" in kv)))
    return res

def checks(text, scenario):
    p = re.findall(r"^PASS \[\S+\] %s: " % scenario, text, re.M)
    f = re.findall(r"^FAIL \[\S+\] (%s: .*)$" % scenario, text, re.M)
    return len(p), f

def qemu_sections(text):
    sec = {}
    boots = dict(re.findall(r"^# boot \[\S+\] (\S+): done in (\d+) s$", text, re.M))
    def verdict(scn, boot):
        p, f = checks(text, scn)
        s = "Checks: %d passed, %d failed (boot `%s`: %s s)." % (p, len(f), boot, boots.get(boot, "?"))
        if f:
            s += "\n\nFailed:\n\n" + "\n".join("- " + x for x in f)
        return s
    st = figures(text, "figures-storm")
    if st:
        k, d = st[-1]
        rss = d.get("rss_kb", "?/?").split("/")
        fds = d.get("fds", "?/?").split("/")
        run = d.get("run_entries", "?/?").split("/")
        body = ["Kernel %s, TCG. `tests/vm/scenarios/30-storm.sh`: `echo add` into every PCI device's `uevent` from" % k,
                "parallel writers plus `udevadm trigger --subsystem-match=pci --action=change` in a loop (udevd",
                "stopped meanwhile: the daemon listens to the kernel's group), a configured NIC hot-added in the",
                "middle. Counted by the kernel's `uevent_seqnum`; CPU from `/proc/PID/stat` (utime+stime).", "",
                "| figure | value |", "|---|---|",
                "| uevents sent | %s |" % d.get("uevents"),
                "| sent per second (writers' wall time %s ms) | %s |" % (d.get("writers_ms"), d.get("rate_per_s")),
                "| handled per second (until the daemon's CPU time stopped moving, %s ms) | %s |" % (d.get("idle_after_ms"), d.get("handled_per_s")),
                "| daemon CPU | %s ticks, %s µs per uevent (%s µs of it in the kernel) |" % (d.get("cpu_ticks"), d.get("cpu_us_per_uevent"), d.get("kernel_us_per_uevent", "?")),
                "| daemon woken (voluntary context switches) per uevent | %s |" % d.get("wakeups_per_uevent", "?"),
                "| daemon read syscalls (`/proc/PID/io` syscr) per uevent | %s |" % d.get("reads_per_uevent", "?"),
                "| ENOBUFS noticed (journal) during the storm | %s |" % d.get("enobufs"),
                "| uevents the socket dropped (`/proc/net/netlink` Drops) | %s |" % d.get("socket_drops")]
        body += [""]
        raw = re.findall(r"^# \[\S+\] figures-storm-split: (\S+) ?(.*)$", text, re.M)
        split = {}
        enobufs_total = None
        for what, rest in raw:
            if what.startswith("enobufs_total"):
                enobufs_total = what.split("=")[1]
                continue
            split[what] = dict(kv.split("=", 1) for kv in rest.split() if "=" in kv)
        body += ["Where the CPU goes: two smaller storms, one at the configured NIC only, one at every other PCI",
                 "device only, with the daemon's CPU, wakeups and read syscalls per uevent:", "",
                 "| storm at | uevents | µs of CPU per uevent | of it in the kernel | woken per uevent | reads per uevent |", "|---|---|---|---|---|---|"]
        for what, label in (("configured_nic", "the configured NIC"), ("other_devices", "every other PCI device")):
            d2 = split.get(what, {})
            body.append("| %s | %s | %s | %s | %s | %s |" % (label, d2.get("uevents", "?"), d2.get("cpu_us_per_uevent", "?"),
                                                            d2.get("kernel_us_per_uevent", "?"), d2.get("wakeups_per_uevent", "?"),
                                                            d2.get("reads_per_uevent", "?")))
        fl = split.get("floor")
        if fl and "cpu_us_per_uevent" in fl:
            body.append("| (beside the daemon in that storm) a bare libudev listener, `tests/vm/tools/uevent-floor.c` | %s of %s | %s | %s | | |" %
                        (fl.get("uevents"), fl.get("sent"), fl.get("cpu_us_per_uevent"), fl.get("kernel_us_per_uevent")))
            try:
                own = int(split["other_devices"]["cpu_us_per_uevent"]) - int(fl["cpu_us_per_uevent"])
                body += ["", "The daemon's own share of a uevent for a device it does not look after: %d µs of its %s µs;"
                         % (own, split["other_devices"]["cpu_us_per_uevent"]),
                         "the other %s µs are what any libudev listener pays in this guest for receiving and parsing it." % fl["cpu_us_per_uevent"]]
            except (KeyError, ValueError):
                pass
        elif fl is not None:
            body += ["", "No floor listener ran (run.sh without --floor): the daemon's own share is not measured."]
        if enobufs_total is not None:
            body += ["", "ENOBUFS notices in the whole boot (the frozen-daemon proof included): %s." % enobufs_total]
        body += ["", "How to read it: a uevent for a device the daemon does not look after is decided from the",
                 "message alone (its PCI_ID=, and one readlink of `iommu_group` when Group= is not ignore), so",
                 "its reads per uevent are the floor and its CPU is libudev's receive and parse plus the wakeup;",
                 "a uevent for the configured NIC brings a pass (every device read again), and the reads per",
                 "uevent say how many uevents one pass covered (a batch drained from the socket brings one pass).",
                 "Under TCG on a shared 2-core host the writers and the daemon compete for the vCPUs, so the rate",
                 "sent is what the daemon let through."]
        body += ["", "A lost uevent is not a lost device: the daemon frozen (SIGSTOP) with its socket overflowing, a",
                 "configured NIC hot-added (its add and e1000e's bind dropped for the daemon, seen by another",
                 "listener); thawed, the daemon got ENOBUFS, logged it, looked at every device and bound the NIC,",
                 "with no second event for it.", "", verdict("scenario-30", "30-storm")]
        sec["storm"] = "\n".join(body) + "\n"
        mem = ["| phase | VmRSS kB before → after | open fds | /run/vfio-bind entries |", "|---|---|---|---|",
               "| storm (%s uevents) | %s → %s | %s → %s | %s → %s |" % (d.get("uevents"), rss[0], rss[-1], fds[0], fds[-1], run[0], run[-1])]
    else:
        mem = []
    ch = figures(text, "figures-churn")
    su = figures(text, "figures-surprise")
    if ch:
        k, d = ch[-1]
        rss = d.get("rss_kb", "?/?/?").split("/")
        fds = d.get("fds", "?/?/?").split("/")
        run = d.get("run_entries", "?/?/?").split("/")
        body = ["Kernel %s, TCG. `tests/vm/scenarios/31-churn.sh`: device_add/device_del of a configured e1000e in" % k,
                "the free root port through QMP (ACPI hotplug), e1000e binding each during device_add.", "",
                "| figure | value |", "|---|---|",
                "| cycles | %s |" % d.get("cycles"),
                "| adds bound to vfio-pci | %s |" % d.get("bound"),
                "| removals forgotten (STATUS= 1/2 naming the NIC) | %s |" % d.get("forgotten"),
                "| journal bind entries for the NIC | %s |" % d.get("journal_binds"),
                "| wall time of the churn | %s s |" % (int(d.get("ms", "0")) // 1000)]
        if su:
            d2 = su[-1][1]
            body += ["", "Surprise removal (device_del right after device_add; sysfs remove once the override is written",
                     "and once e1000e let go, then a rescan): %s removals, %s of them before vfio-pci had bound the NIC; no crash %s/3, truthful" % (d2.get("removals"), d2.get("before_vfio_bound"), d2.get("survived")),
                     "STATUS= %s/3, the next add bound %s/3." % (d2.get("truthful"), d2.get("rebound"))]
        body += ["", verdict("scenario-31", "31-churn")]
        sec["hotplug"] = "\n".join(body) + "\n"
        mem.append("| churn (%s cycles; start / after cycle 1 / end) | %s / %s / %s | %s / %s / %s | %s / %s / %s |" % (
            d.get("cycles"), rss[0], rss[1], rss[2], fds[0], fds[1], fds[2], run[0], run[1], run[2]))
    if mem:
        sec["memory"] = "\n".join(["The daemon's VmRSS and open fds (`/proc/PID/status`, `/proc/PID/fd`) and the entries below",
                                   "/run/vfio-bind, measured in the guest once the daemon was idle.", ""] + mem) + "\n"
    kl = figures(text, "figures-kill")
    if kl:
        k, d = kl[-1]
        body = ["Kernel %s, TCG. `tests/vm/scenarios/32-kill.sh`: SIGKILL from a tight loop of shell builtins watching" % k,
                "sysfs, while the daemon moved a hot-added NIC from e1000e to vfio-pci: right after driver_override",
                "was written (e1000e still bound) and right after e1000e let go (no driver yet).", "",
                "| figure | value |", "|---|---|",
                "| tries | %s (missed the moment: %s) |" % (d.get("tries"), d.get("missed")),
                "| kills in the middle of a bind | %s |" % d.get("landed"),
                "| never driverless without an override right after | %s |" % d.get("safe"),
                "| restarted by systemd and converged (NIC on vfio-pci, STATUS= 2/2) | %s |" % d.get("converged"),
                "| NRestarts at the end | %s |" % d.get("nrestarts"),
                "", "Per step: %s." % ", ".join(
                    (re.findall(r"^# \[\S+\] figures-kill: .*\bresults=(.*)$", text, re.M) or [""])[-1].split()),
                "", verdict("scenario-32", "32-kill")]
        sec["kill"] = "\n".join(body) + "\n"
    return sec

lines = ["# Faults: what the daemon survives", "",
         "Generated by `bench/faults.sh` (see its header); do not edit by hand, except inside the",
         "QEMU sections' markers and section 8's (written from tools/mutate.sh --generate and",
         "tools/coverage.sh), which it keeps. Reliability is reported, never timed.", "",
         "- date: %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
         "- vfio-bind: commit %s" % commit, ""]

# 1. Kills.
lines += ["## 1. Killed at any step (fake kernel)", "",
          "The daemon (`vfio-bindd --once` on a fake tree, tests/test-faults.c) is killed with SIGKILL right",
          "after each write or module load of an uninterrupted run (`kill-after PATH N` in fake-kernel.conf),",
          "then started again, as `Restart=on-failure` would. Converged: it exits 0, every configured",
          "device is on vfio-pci, STATUS= claims only what is so, and the whole machine (drivers,",
          "overrides, SR-IOV attributes, vtconsoles, boot framebuffer) ends as the uninterrupted run left it;",
          "right after the kill no device it had touched is driverless without the override.", ""]
steps = re.findall(r"^(\S+): killed after kill-after (\S+) (\d+): converged, (\d+) on vfio-pci$", text, re.M)
fails = re.findall(r"^FAIL: (\S+)$", text, re.M)
trees = {}
for tree, path, nth, n in steps:
    trees.setdefault(tree, []).append((path, nth, n))
lines += ["| tree | kills | converged |", "|---|---|---|"]
for tree, s in trees.items():
    lines.append("| %s | %d | %d |" % (tree, len(s), len(s)))
lines.append("| **all** | **%d** | **%d** |" % (len(steps), len(steps)))
lines.append("")
if fails:
    lines += ["**Did not converge:** " + ", ".join(fails) + " (see the test's output).", ""]
lines += ["Steps, in the order of the run (N: the N-th write of that path):", ""]
for tree, s in trees.items():
    lines.append("- %s: %s" % (tree, "; ".join("%s%s" % (p, "" if nth == "1" else " #" + nth) for p, nth, n in s)))
lines += ["", "Found by it and fixed: killed while a PF's `sriov_drivers_autoprobe` was off (after switching",
          "it off, after `sriov_numvfs`, after a VF's override), the daemon started again left it off for",
          "good; a mark under /run/vfio-bind/autoprobe-off/ now lets the next run switch it back on.", ""]

# 2. Fuzzing.
lines += ["## 2. Fuzzing", "",
          "`env VB_FUZZ_RUNS=10000000 tools/fuzz.sh 3600` (libFuzzer, ASan+UBSan, one job per target, one",
          "target after the other: 10 M executions, or an hour, per target). The figures are those of each",
          "target's last run (its fuzz-TARGET.log, and the day it was written). The last long run ran two",
          "such scripts side by side, five targets each, one per core of an otherwise idle 2-core machine;",
          "the rates drop as a target's corpus grows, and on a shared core.", "",
          "| target | executions | per second | minutes | run on | findings | kept regressions |",
          "|---|---|---|---|---|---|---|"]
total = 0
for log in sorted(glob.glob(os.path.join(fuzz_build, "fuzz-*.log"))):
    target = os.path.basename(log)[5:-4]
    s = open(log, errors="replace").read()
    execs = sum(int(x) for x in re.findall(r"^stat::number_of_executed_units:\s*(\d+)", s, re.M))
    rate = sum(int(x) for x in re.findall(r"^stat::average_exec_per_sec:\s*(\d+)", s, re.M))
    arts = glob.glob(os.path.join(fuzz_build, "artifacts", target, "*"))
    regs = [f for f in glob.glob(os.path.join("tests/fuzz/regressions", target, "*")) if not f.endswith("README")]
    total += execs
    left = "" if execs >= 10_000_000 or not rate else " (10 M: ~%d min)" % ((10_000_000 - execs) / rate / 60 + 1)
    minutes = "%.1f" % (execs / rate / 60) if rate else "-"
    day = time.strftime("%Y-%m-%d", time.gmtime(os.path.getmtime(log)))
    lines.append("| fuzz-%s | %s%s | %s | %s | %s | %d | %d |" % (target, format(execs, ","), left, format(rate, ","),
                                                            minutes, day, len(arts), len(regs)))
lines += ["", "Total: %s executions." % format(total, ","),
          "Findings of the fuzzers and their seeds, all fixed and kept as regressions: /proc/iomem lines",
          "with start > end were kept as framebuffer ranges (lib/console.c); a harness bug in fuzz-sysfs.",
          "Found while making the file readers' targets fast (no crash, a cost): the mountinfo and swaps",
          "parsers grew their arrays by one realloc() per line, quadratic in the lines (lib/interlock-storage.c,",
          "now doubling); and each configuration error cost four allocations (lib/diagnostics.c, now one:",
          "fuzz-config 6.8 k -> 8.8 k executions a second from its seeds). The file readers' targets call",
          "the pure parsers split out of the readers; the configuration and command-line targets are capped",
          "at 512 bytes (tools/fuzz.sh says why).", ""]

# 3. Mutation.
lines += ["## 3. Mutation run", "",
          "`nice -n 19 tools/mutate.sh`: each one-line bug of tools/mutants.txt applied to a scratch copy,",
          "built, and run against the unit suite (`meson test --suite unit`).", ""]
try:
    m = open(os.path.join(mutate_dir, "mutate.txt")).read().rstrip("\n").split("\n")
    score = [l for l in m if l.startswith("mutation score")]
    lines += ["**%s**" % (score[-1] if score else "no score (the run did not finish)"), ""]
    try:
        first = [l for l in open(os.path.join(mutate_dir, "mutate-first-run.txt")) if l.startswith("mutation score")]
        if first:
            lines += ["The first run, before tests were added for its survivors: %s." % first[-1].strip()[len("mutation score: "):], ""]
    except OSError:
        pass
    lines += ["```"]
    lines += [l for l in m if not l.startswith("mutation score")]
    lines += ["```", ""]
except OSError:
    lines += ["No mutation run found in %s (run tools/mutate.sh)." % mutate_dir, ""]

# 4. QEMU, from a run.sh output of the load scenarios.
vm = {}
if vm_out:
    vm = qemu_sections(open(vm_out, errors="replace").read())
for section, title, what in [
        ("storm", "4. Uevent storm (QEMU guest)", "uevents per second handled, a device hot-added during the storm bound, memory and fds before and after, a lost uevent (ENOBUFS) followed by a rescan"),
        ("hotplug", "5. Hotplug churn and surprise removal (QEMU guest)", "add/remove cycles of a configured NIC through QMP, every add bound, every remove forgotten, /run/vfio-bind size; device_del during a bind"),
        ("memory", "6. Memory and fds (QEMU guest)", "RSS and open fds of the daemon before and after the storm and the churn"),
        ("kill", "7. Killed during a real bind (QEMU guest)", "SIGKILL during a real bind, the service restarted, where the devices end")]:
    body = vm.get(section)
    if body:
        body = "_From the run.sh output `%s`._\n\n" % os.path.relpath(vm_out) + body
    body = body or keep(section) or "_Not measured yet: %s._\n" % what
    lines += ["## " + title, "", "<!-- qemu:%s -->" % section, body.rstrip("\n"), "<!-- /qemu:%s -->" % section, ""]

# 8. Generated mutants and coverage: written by hand from tools/mutate.sh --generate and
# tools/coverage.sh (each survivor needs a reason a person gives), kept as it is.
body = keep("generated", "kept") or ("_Not measured yet: tools/mutate.sh --generate, tools/coverage.sh._\n")
lines += ["## 8. Generated mutants and coverage", "", "<!-- kept:generated -->", body.rstrip("\n"),
          "<!-- /kept:generated -->", ""]

open(out, "w").write("\n".join(lines))
print("wrote %s: %d kills converged%s" % (out, len(steps), ", FAILED: " + " ".join(fails) if fails else ""))
EOF
exit $status
