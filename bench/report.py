#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turn the raw measurements of bench/run.sh into bench/RESULTS.md.

    report.py callgrind N TOOL ANNOTATE.txt
        read `callgrind_annotate --inclusive=yes` output, print "ir N TOOL TOTAL FAKE" (FAKE: the
        inclusive cost of the fake kernel's entry points) and "top N TOOL IR FUNCTION" lines
    report.py report --meta FILE [--tree FILE] [--vm FILE] --out FILE
        write the report

Only numbers are reported; targets that are missed are said to be missed, by how much. Nothing
here fails because something was slow.
"""

import argparse
import re
import statistics
import sys

# The fake kernel's entry points (tests/fake-kernel.c): what a real kernel would do instead.
FAKE_KERNEL_FUNCTIONS = ("fake_write_attr", "fake_load_driver", "fake_kernel_new", "fake_kernel_free")
# Wrappers that only contain the program: left out of the "costliest functions" list.
WRAPPERS = re.compile(r"^(\(below main\)|main|vbd_main|_start|__libc_start_main.*|start_thread.*|clone.*|0x[0-9a-f]+)$")

TOOLS_TREE = {
    "addr": "vfio-bindd --once, Device= per address",
    "id": "vfio-bindd --once, one vendor:device selector",
    "floor": "floor (bench-tree floor)",
}
TOOLS_VM = [
    ("once", "`vfio-bindd --once`", "process start to exit", "`vfio-bind release` per function"),
    ("ready", "vfio-bind.service", "`systemctl start` (returns at READY=1)", "stop, then `vfio-bind release` per function"),
    ("ready-plain", "vfio-bind.service without its sandbox", "the same, the unit's sandboxing lines removed", "stop, then `vfio-bind release` per function"),
    ("driverctl", "driverctl", "`driverctl set-override` per function", "`driverctl unset-override` per function"),
    ("seed", "seed snippet, vfio-pci not loaded", "the postBootCommands as a bash script", "-"),
    ("seed-pre", "seed snippet, vfio-pci loaded", "the same, vfio-pci loaded before (as by boot.kernelModules)", "-"),
    ("floor", "floor (bench-floor)", "module load + override, unbind, probe", "`bench-floor release`"),
]


def parse_callgrind(n, tool, path):
    total = None
    fake = 0
    top = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?PROGRAM TOTALS", line)
            if m:
                total = int(m.group(1).replace(",", ""))
                continue
            m = re.match(r"^\s*([\d,]+)\s+\([^)]*\)\s+(\S.*?):([^\s']+)('\d+)?\s+\[", line)
            if not m:
                continue
            ir = int(m.group(1).replace(",", ""))
            fn = m.group(3)
            if m.group(4):  # a cycle's member: counted under its own name already
                continue
            if fn in FAKE_KERNEL_FUNCTIONS:
                fake += ir
            if total and ir <= total and not WRAPPERS.match(fn) and "???" not in fn:
                if fn not in [t[1] for t in top]:
                    top.append((ir, fn))
    if total is None:
        print(f"report.py: no PROGRAM TOTALS in {path}", file=sys.stderr)
        return 1
    print(f"ir {n} {tool} {total} {fake}")
    for ir, fn in top[:400]:
        print(f"top {n} {tool} {ir} {fn}")
    return 0


def med(xs):
    return statistics.median(xs) if xs else None


def ms(us):
    return f"{us / 1000:.0f}" if us is not None else "n/a"


def spread_ms(xs):
    if not xs:
        return "n/a"
    return f"{ms(med(xs))} ({ms(min(xs))}–{ms(max(xs))})"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}×"


def fmt_int(x):
    return f"{x:,}".replace(",", " ") if x is not None else "n/a"


def read_kv(path):
    meta = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(" ")
            meta[k] = v
    return meta


# ---- fake trees -------------------------------------------------------------------------------

def tree_section(path, out):
    times = {}   # (n, tool) -> [(real, cpu)]
    irs = {}     # (n, tool) -> (total, fake)
    tops = {}    # (n, tool) -> {fn: ir}
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "time":
                n, tool = int(w[1]), w[2]
                times.setdefault((n, tool), []).append((float(w[4]), float(w[5]) + float(w[6])))
            elif w[0] == "ir":
                irs[(int(w[1]), w[2])] = (int(w[3]), int(w[4]))
            elif w[0] == "top":
                tops.setdefault((int(w[1]), w[2]), {})[" ".join(w[4:])] = int(w[3])
    sizes = sorted({n for n, _ in list(times) + list(irs)})
    if not sizes:
        out.append("No fake-tree measurements.\n")
        return

    out.append("Trees made by `bench-tree gen N`: N endpoint functions (plus a host bridge and one root port per "
               "32 functions), four per slot; the .0 of every slot (a quarter) is a 3D controller without "
               "driver that is selected, the other three are on host drivers; every function has its own "
               "IOMMU group. Each run binds the selected quarter on a fresh copy through the fake kernel "
               "(tests/fake-kernel.c), and every run is checked afterwards (`bench-tree verify`: the quarter "
               "on vfio-pci, the rest untouched). The floor makes the same kernel calls through the same fake "
               "kernel (load vfio-pci, then driver_override and drivers_probe per function) and nothing else. "
               "Wall time includes process start; trees live on tmpfs.\n")
    out.append("| functions | selected | program | wall, ms: median (min–max) | CPU, ms | wall per selected | "
               "× floor (wall) | instructions | per selected | per selected, without fake kernel | × floor (instr.) |")
    out.append("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        k = n // 4
        fl = times.get((n, "floor"))
        fl_wall = med([r for r, _ in fl]) if fl else None
        fl_ir = irs.get((n, "floor"))
        for tool in ("addr", "id", "floor"):
            t = times.get((n, tool), [])
            walls = [r * 1e6 for r, _ in t]
            cpu = med([c for _, c in t])
            wall = med([r for r, _ in t])
            ir = irs.get((n, tool))
            out.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                n, k, TOOLS_TREE[tool], spread_ms(walls),
                f"{cpu * 1000:.0f}" if cpu is not None else "n/a",
                f"{wall / k * 1e6:.0f} µs" if wall is not None else "n/a",
                ratio(wall, fl_wall) if tool != "floor" else "1",
                fmt_int(ir[0]) if ir else "n/a",
                fmt_int(ir[0] // k) if ir else "n/a",
                fmt_int((ir[0] - ir[1]) // k) if ir else "n/a",
                ratio(ir[0], fl_ir[0]) if ir and fl_ir and tool != "floor" else ("1" if tool == "floor" else "n/a")))
    out.append("")

    # linearity: instructions per added selected function between consecutive sizes
    out.append("### Does the cost grow linearly?\n")
    out.append("Instructions per selected function added between two sizes (the marginal cost). Linear growth "
               "keeps it flat; a marginal cost that grows with the tree means some step is worse than linear.\n")
    header = "| program | " + " | ".join(f"{a}→{b}" for a, b in zip(sizes, sizes[1:])) + " | verdict |"
    out.append(header)
    out.append("|---|" + "---:|" * (len(sizes) - 1) + "---|")
    verdicts = {}
    for tool in ("addr", "id", "floor"):
        cells, marg = [], []
        for a, b in zip(sizes, sizes[1:]):
            ia, ib = irs.get((a, tool)), irs.get((b, tool))
            if ia and ib:
                m = (ib[0] - ia[0]) / (b // 4 - a // 4)
                marg.append(m)
                cells.append(fmt_int(int(m)))
            else:
                cells.append("n/a")
        if len(marg) >= 2 and marg[0] > 0:
            g = marg[-1] / marg[0]
            v = "linear (within 25 %)" if g <= 1.25 else f"worse than linear: marginal cost ×{g:.1f}"
        else:
            v = "n/a"
        verdicts[tool] = v
        out.append(f"| {TOOLS_TREE[tool]} | " + " | ".join(cells) + f" | {v} |")
    out.append("")

    # where: functions whose cost grows faster than the tree
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        grow = b / a
        for tool in ("addr", "id"):
            ta, tb = tops.get((a, tool), {}), tops.get((b, tool), {})
            rows = []
            total_b = irs.get((b, tool), (0, 0))[0]
            for fn, irb in tb.items():
                ira = ta.get(fn)
                if not ira or irb < total_b * 0.02:
                    continue
                rows.append((irb / ira, fn, ira, irb))
            rows.sort(reverse=True)
            if not rows:
                continue
            out.append(f"Costliest functions of {TOOLS_TREE[tool]} (inclusive instructions, callgrind), "
                       f"at {a} and {b} functions (the tree grows ×{grow:.0f}):\n")
            out.append(f"| function | at {a} | at {b} | growth |")
            out.append("|---|---:|---:|---:|")
            for g, fn, ira, irb in rows[:12]:
                flag = " **superlinear**" if g > grow * 1.5 else ""
                out.append(f"| `{fn}` | {fmt_int(ira)} | {fmt_int(irb)} | ×{g:.1f}{flag} |")
            out.append("")


# ---- QEMU -------------------------------------------------------------------------------------

def service_starts(logs):
    """(spawn, pass, ready) in microseconds for each start of vfio-bind.service after the first, read
    from the runtime boot's journal (journalctl -o short-monotonic)."""
    if not logs:
        return []
    try:
        f = open(f"{logs}/runtime/journal.log", encoding="utf-8", errors="replace")
    except OSError:
        return []
    starts, cur = [], None
    with f:
        for line in f:
            m = re.match(r"^\[\s*(\d+)\.(\d{6})\] \S+ (\S+?)(?:\[(\d+)\])?: (.*)$", line.rstrip("\n"))
            if not m:
                continue
            t = int(m.group(1)) * 1000000 + int(m.group(2))
            who, msg = m.group(3), m.group(5)
            if who == "systemd" and msg.startswith("Starting vfio-bind.service"):
                cur = {"start": t}
            elif cur is not None and who == "vfio-bindd":
                cur.setdefault("first", t)
                cur["last"] = t
                p = re.search(r"first pass done in ([\d.]+)s", msg)
                if p:
                    cur["pass"] = int(float(p.group(1)) * 1e6)
            elif cur is not None and who == "systemd" and msg.startswith("Started vfio-bind.service"):
                cur["ready"] = t
                starts.append(cur)
                cur = None
    rows = []
    for c in starts[1:]:
        rows.append((c["first"] - c["start"] if "first" in c else None, c.get("pass"),
                     c["ready"] - c["last"] if "last" in c else None))
    return rows


def vm_section(path, out, meta, logs=None):
    runs = {}     # tool -> list of dicts
    boot = {"runtime": {}, "driverctl": {}}
    memory, idle, rssmap = [], [], []
    memory_end = {}
    sandbox = {}
    host = {}
    incomplete = False
    notes = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "incomplete":
                incomplete = True
                continue
            if w[0] == "host":
                host = dict(x.split("=", 1) for x in w[1:] if "=" in x)
                continue
            bootname, key, rest = w[0], w[1] if len(w) > 1 else "", w[2:]
            if key == "run" and len(rest) >= 8:
                tool, rnd, there, back, rc, at, ab, extra = rest[:8]
                runs.setdefault(tool, []).append({
                    "round": int(rnd), "there": int(there), "back": None if back == "-" else int(back),
                    "rc": int(rc), "after": at, "after_back": ab, "extra": None if extra == "-" else int(extra)})
            elif key == "boot-unit":
                boot.setdefault(bootname, {}).setdefault("units", {})[rest[0]] = int(rest[1])
            elif key == "boot-times":
                boot.setdefault(bootname, {})["times"] = [int(x) for x in rest]
            elif key in ("boot-drivers", "boot-host-bound", "machine", "start-state", "sandbox-state"):
                boot.setdefault(bootname, {})[key] = " ".join(rest)
            elif key == "memory":
                memory.append(rest)
            elif key == "memory-end":
                memory_end[rest[0]] = rest[1:]
            elif key == "idle":
                idle.append(rest)
            elif key == "sandbox" and len(rest) >= 3 and rest[2].isdigit():
                sandbox.setdefault(rest[0], []).append(int(rest[2]))
            elif key == "rss-map" and len(rest) >= 3 and rest[1].isdigit() and rest[2].isdigit():
                rssmap.append((rest[0], int(rest[1]), int(rest[2])))
    if not runs and not boot["runtime"]:
        out.append("The QEMU part did not run or reported nothing" + (" (incomplete)" if incomplete else "") + ".\n")
        return {}
    if incomplete:
        notes.append("**The QEMU part did not complete**: numbers below are what the guests reported before that.")

    g = boot["runtime"]
    out.append(f"Guest: Debian kernel {host.get('guest-kernel', '?')}, QEMU {host.get('qemu', '?')} in TCG mode "
               f"(no KVM), {g.get('machine', '?').replace('_', ' ')}; driverctl {host.get('driverctl', '?')} from "
               "Debian. The machine of tests/vm: the GPU (`-device VGA`, 01:00.0) and its audio function "
               "(`ich9-intel-hda`, 01:00.1) in one IOMMU group. One boot: vfio-bind.service binds the slot at "
               "boot, then bochs and snd_hda_intel are unloaded so that nothing takes the functions back, and "
               "the tools take turns, the order rotated each round. Before every run an untimed reset leaves "
               "both functions without driver and override and unloads vfio-pci with the modules it pulled in, "
               "so every run includes the module load (except *seed snippet, vfio-pci loaded*, which is the "
               "point of that row). Times are wall clock in the guest (bash's EPOCHREALTIME around the "
               "command), so each includes starting its processes under TCG, as it would at boot.\n")
    if g.get("start-state"):
        out.append(f"State before the rounds (GPU, audio): `{g['start-state']}`.\n")

    floor = runs.get("floor", [])
    floor_there = med([r["there"] for r in floor])
    floor_back = med([r["back"] for r in floor if r["back"] is not None])
    out.append("| tool | timed | there, ms: median (min–max) | × floor | ended on (GPU, audio) | back | back, ms | × floor | runs |")
    out.append("|---|---|---|---:|---|---|---|---:|---:|")
    for tool, name, what, backwhat in TOOLS_VM:
        rs = runs.get(tool, [])
        if not rs:
            out.append(f"| {name} | {what} | not measured | | | | | | 0 |")
            continue
        there = [r["there"] for r in rs]
        backs = [r["back"] for r in rs if r["back"] is not None]
        ends = sorted({r["after"] for r in rs})
        ends_back = sorted({r["after_back"] for r in rs if r["after_back"] != "-"})
        rcs = sorted({r["rc"] for r in rs})
        out.append("| {} | {}{} | {} | {} | {} | {} | {} | {} | {} |".format(
            name, what, "" if rcs == [0] else f" (exit {','.join(map(str, rcs))})",
            spread_ms(there), ratio(med(there), floor_there),
            " / ".join(f"`{e}`" for e in ends),
            backwhat + ("" if not ends_back else " → " + " / ".join(f"`{e}`" for e in ends_back)),
            spread_ms(backs) if backs else "-", ratio(med(backs), floor_back) if backs else "-", len(rs)))
    out.append("")
    diag = [(t, n) for t, n in (("start-daemon", "`vfio-bindd --version`: process start and exit"),
                                 ("start-floor", "`bench-floor` without arguments: process start and exit"),
                                 ("dry-run", "`vfio-bindd --dry-run`: start, configuration, scan, plan; no writes"))
            if runs.get(t)]
    if diag:
        out.append("What the difference to the floor is made of (same rounds, same reset before each run):\n")
        out.append("| run | ms: median (min–max) | exit |")
        out.append("|---|---|---|")
        for t, n in diag:
            rs = runs[t]
            out.append(f"| {n} | {spread_ms([r['there'] for r in rs])} | "
                       f"{','.join(map(str, sorted({r['rc'] for r in rs})))} |")
        out.append("")
    ready = [r["extra"] for r in runs.get("ready", []) if r["extra"] is not None]
    starts = service_starts(logs)
    if starts:
        out.append("Where a service start's time goes, from the runtime boot's journal (every start of "
                   "vfio-bind.service after the boot's own: the rounds and the memory runs): PID 1's *Starting* "
                   "line → the daemon's first line (PID 1 forks and sets up the service, the daemon starts and "
                   "reads its configuration), the daemon's own *first pass done in* (scan, plan, module load, "
                   "binds), and its READY → PID 1's *Started* line.\n")
        out.append("| step | ms: median (min–max) | starts |")
        out.append("|---|---|---:|")
        for i, name in enumerate(("PID 1 *Starting* → the daemon's first line", "the daemon's first pass (its own measure)",
                                  "the daemon's last line → PID 1 *Started*")):
            xs = [x[i] for x in starts if x[i] is not None]
            out.append(f"| {name} | {spread_ms(xs)} | {len(xs)} |")
        out.append("")
    if ready:
        out.append(f"vfio-bind.service, the daemon's own start to READY=1 (ExecMainStartTimestamp → "
                   f"ActiveEnterTimestamp): {spread_ms(ready)} ms, {ratio(med(ready), floor_there)} the floor.\n")
    plain = [r["extra"] for r in runs.get("ready-plain", []) if r["extra"] is not None]
    if plain:
        out.append(f"The same unit without its sandbox (vfio-bind-plain.service: the lines from *# Sandboxing* to "
                   f"*UMask=* removed): {spread_ms(plain)} ms, {ratio(med(plain), floor_there)} the floor; the "
                   f"difference is what PID 1 spends setting up the hardening (namespaces, mounts, seccomp, BPF) "
                   f"before the daemon runs.\n")

    if sandbox:
        variants = [("full", "as shipped"),
                    ("none", "without its sandbox (the lines from *# Sandboxing* to *UMask=*)"),
                    ("no-namespaces", "without the options that make PID 1 set up namespaces: ProtectSystem=, "
                     "ProtectHome=, PrivateDevices= (and DevicePolicy=), PrivateMounts=, ProtectClock=, "
                     "ProtectKernelLogs=, ProtectControlGroups=, ProtectProc=, PrivateIPC=, ProtectHostname="),
                    ("no-seccomp", "without SystemCallFilter=, SystemCallErrorNumber=, SystemCallArchitectures="),
                    ("no-ip-bpf", "without IPAddressDeny= (a BPF program on the unit's cgroup)")]
        full = med(sandbox.get("full", []))
        out.append("What the sandbox costs at every start: the daemon's start → READY=1 (ExecMainStartTimestamp, "
                   "taken when PID 1 forks, → ActiveEnterTimestamp) with both functions already on vfio-pci, so "
                   "that the daemon only scans and finds them bound; the unit as shipped against copies without "
                   "parts of its sandbox, alternating, " + str(len(sandbox.get("full", []))) + " starts each"
                   + (f" (functions afterwards: `{g['sandbox-state']}`)" if g.get("sandbox-state") else "") + ".\n")
        out.append("| unit | start → READY, ms: median (min–max) | less than as shipped |")
        out.append("|---|---|---:|")
        for v, what in variants:
            xs = sandbox.get(v, [])
            if not xs:
                out.append(f"| {what} | not measured | |")
                continue
            saved = "" if v == "full" or full is None else f"{(full - med(xs)) / 1000:.0f} ms"
            out.append(f"| {what} | {spread_ms(xs)} | {saved} |")
        out.append("")

    results = {"once": med([r["there"] for r in runs.get("once", [])]), "floor": floor_there,
               "driverctl": med([r["there"] for r in runs.get("driverctl", [])]),
               "ready": med(ready) if ready else None}

    # memory and idleness
    if memory:
        out.append("### Memory and idleness of the daemon\n")
        out.append("vfio-bind.service started on the clean state; 5 s after `systemctl start` returned (READY=1) "
                   "its memory; then wakeups over the idle period, counted as the sum "
                   "over the daemon's threads of the third field of /proc/PID/task/TID/schedstat (times the task "
                   "was put on a CPU), with voluntary and involuntary context switches from "
                   "/proc/PID/task/TID/status alongside.\n")
        out.append("RSS is measured from /proc/PID/smaps_rollup, which walks the page tables: 5 s after READY and "
                   "again at the end of the idle period; the peak after READY is the larger. VmHWM and VmRSS of "
                   "/proc/PID/status are shown beside it but are not used: on this guest's Linux 6.1 each thread "
                   "caches its RSS counts and hands them to the process only every 64 page faults, so an idle "
                   "process can show megabytes less there than it has mapped (proc(5) on statm). The guest's root "
                   "file system is its initramfs (tmpfs), so library pages are shared memory there, not file "
                   "pages; Pss divides shared pages among the processes that map them, *private* is what only the "
                   "daemon holds.\n")
        out.append("| unit | RSS after READY | at the end of the idle period | of it anonymous | Pss | private | VmHWM / VmRSS (status) | threads | functions on | idle s | wakeups (schedstat) | voluntary switches | involuntary |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")

        def mib(x):
            return f"{int(x) / 1024:.2f} MiB" if str(x).isdigit() else "n/a"
        for m in memory:
            label = m[0]
            hwm, vmrss, thr, drv, rss, anon, pss, priv = (m + ["-"] * 9)[1:9]
            end = (memory_end.get(label) or ["-"])[0]
            i = next((x for x in idle if x[0] == label), None)
            if i and len(i) >= 8:
                secs = i[1]
                r0, v0, n0, r1, v1, n1 = map(int, i[2:8])
                wk, vol, inv = r1 - r0, v1 - v0, n1 - n0
            else:
                secs, wk, vol, inv = "-", "-", "-", "-"
            unit = {"shipped": "as shipped (no watchdog)", "watchdog": "with WatchdogSec=1min (drop-in)"}.get(label, label)
            if not rss.isdigit():
                out.append(f"| {unit} | n/a | | | | | | | | | | | |")
                continue
            out.append(f"| {unit} | {mib(rss)} | {mib(end)} | {mib(anon)} | {mib(pss)} | {mib(priv)} | "
                       f"{mib(hwm)} / {mib(vmrss)} | {thr} | `{drv}` | {secs} | {wk} | {vol} | {inv} |")
            if label == "shipped":
                results["peak"] = max(int(rss), int(end)) if end.isdigit() else int(rss)
                results["pss"] = int(pss) if pss.isdigit() else None
                results["private"] = int(priv) if priv.isdigit() else None
                results["wakeups"] = wk
            if label == "watchdog":
                results["wakeups_wd"] = wk
        out.append("")
        if rssmap:
            total = sum(r for _, r, _ in rssmap)
            out.append("Where the shipped unit's RSS is, by mapping (/proc/PID/smaps, Rss summed per file; "
                       "*anonymous* are the pages the process wrote: for a library, the ones its relocations "
                       "touched at load):\n")
            out.append("| mapping | Rss | of it anonymous | share of Rss |")
            out.append("|---|---:|---:|---:|")
            for name, r, a in sorted(rssmap, key=lambda x: -x[1]):
                out.append(f"| `{name}` | {r} KiB | {a} KiB | {100 * r / total:.0f} % |")
            out.append("")

    # boot
    out.append("### Boot: vfio-bind.service against driverctl@\n")
    out.append("Two boots of the same machine with the host drivers loadable: one with vfio-bind.service enabled "
               "for the GPU slot, one with driverctl overrides saved for both functions (udev starts a "
               "driverctl@ instance per function). Activation time of a unit is InactiveExit → ActiveEnter, "
               "what `systemd-analyze blame` shows (the tool itself refuses to run while the test's own "
               "unit is still starting); the share is that time against PID 1's start → multi-user.target.\n")
    out.append("| boot | unit | activation, ms | share of boot to multi-user | sysinit.target at | basic.target at | multi-user.target at | host driver bound first | functions ended on |")
    out.append("|---|---|---:|---:|---:|---:|---:|---|---|")
    for bn in ("runtime", "driverctl"):
        b = boot.get(bn, {})
        t = b.get("times")
        if not t or not b.get("units"):
            out.append(f"| {bn} | not measured | | | | | | | |")
            continue
        us0 = t[0]
        span = t[3] - us0 if len(t) > 3 and t[3] > us0 else None
        units = b["units"]
        total = sum(units.values())
        for u, v in units.items():
            out.append("| {} | {} | {} | {} | {:.1f} s | {:.1f} s | {:.1f} s | {} | `{}` |".format(
                "vfio-bind" if bn == "runtime" else "driverctl", u, ms(v),
                f"{100 * v / span:.1f} %" if span else "n/a",
                (t[1] - us0) / 1e6, (t[2] - us0) / 1e6, (t[3] - us0) / 1e6,
                b.get("boot-host-bound", "?"), b.get("boot-drivers", "?")))
        if len(units) > 1:
            out.append(f"| driverctl | all instances | {ms(total)} | "
                       f"{100 * total / span:.1f} % | | | | | |" if span else "")
        results[f"boot_{bn}"] = total
    out.append("")
    for n in notes:
        out.append(n + "\n")
    return results


# ---- the report -------------------------------------------------------------------------------

def target_lines(vm):
    lines = []
    once, floor, dc = vm.get("once"), vm.get("floor"), vm.get("driverctl")
    if once and floor:
        r = once / floor
        lines.append(f"- vfio-bindd --once within 1.2× the floor: **{r:.2f}×** — " +
                     ("met." if r <= 1.2 else f"missed by {(r / 1.2 - 1) * 100:.0f} % ({ms(once - 1.2 * floor)} ms over 1.2× the floor)."))
    ready = vm.get("ready")
    if ready and floor:
        r = ready / floor
        lines.append(f"- the daemon's start → READY within 1.2× the floor: **{r:.2f}×** — " +
                     ("met." if r <= 1.2 else f"missed by {(r / 1.2 - 1) * 100:.0f} %."))
    if once and dc:
        r = dc / once
        lines.append(f"- vfio-bindd --once at least 10× faster than driverctl: **{r:.1f}×** — " +
                     ("met." if r >= 10 else f"missed (driverctl takes {r:.1f}× as long, not 10×)."))
    if "peak" in vm:
        mib = vm["peak"] / 1024
        lines.append(f"- peak RSS after READY ≤ 2.5 MiB: **{mib:.2f} MiB** — " +
                     ("met." if mib <= 2.5 else f"missed by {mib - 2.5:.2f} MiB.") +
                     (f" Of it, {vm['private'] / 1024:.2f} MiB is the daemon's own (private pages), "
                      f"Pss {vm['pss'] / 1024:.2f} MiB; the rest are pages of shared libraries."
                      if vm.get("private") is not None and vm.get("pss") is not None else ""))
    if "wakeups" in vm:
        w = vm["wakeups"]
        s = f"- no wakeups while idle: **{w}** with the shipped unit"
        if "wakeups_wd" in vm:
            s += f" (no watchdog), **{vm['wakeups_wd']}** with WatchdogSec=1min, which pings every 30 s"
        s += " — " + ("met." if w == 0 else "missed with the shipped unit.")
        lines.append(s)
    if vm.get("boot_runtime") is not None and vm.get("boot_driverctl") is not None:
        a, b = vm["boot_runtime"], vm["boot_driverctl"]
        lines.append(f"- at boot, vfio-bind.service {ms(a)} ms against {ms(b)} ms for the driverctl@ instances "
                     f"({ratio(b, a)}).")
    return lines


def report(args):
    meta = read_kv(args.meta)
    out = ["# Benchmark results", "",
           "Generated by `bench/run.sh` (see bench/README.md); do not edit by hand. Benchmarks print numbers: "
           "nothing here fails because something was slow.", "",
           f"- date: {meta.get('date', '?')}",
           f"- host: {meta.get('host-os', '?')}, kernel {meta.get('host-kernel', '?')}, "
           f"{meta.get('host-cpus', '?')} × {meta.get('host-cpu', '?')}, {meta.get('host-mem-mib', '?')} MiB; "
           f"load average at the start {meta.get('host-load', '?')} (a shared machine: spreads are wide)",
           f"- vfio-bind: commit {meta.get('commit', '?')}, build {meta.get('build', '?')}",
           f"- rounds: {meta.get('rounds', '?')} per measurement, alternating; medians with (min–max)", ""]
    vm = {}
    body = []
    if args.vm:
        body.append("## 1. In the guest: moving the GPU and its audio function to vfio-pci and back\n")
        vm = vm_section(args.vm, body, meta, args.vm_logs)
    else:
        body.append("## 1. In the guest\n\nNot run (`--no-vm`).\n")
    if args.tree:
        body.append("## 2. Fake trees: cost per selected function\n")
        tree_section(args.tree, body)
    else:
        body.append("## 2. Fake trees\n\nNot run (`--no-tree`).\n")
    t = target_lines(vm)
    if t:
        out.append("## Targets\n")
        out.extend(t)
        out.append("")
    out.extend(body)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "callgrind":
        if len(sys.argv) != 5:
            print("usage: report.py callgrind N TOOL FILE", file=sys.stderr)
            return 2
        return parse_callgrind(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["report"])
    p.add_argument("--meta", required=True)
    p.add_argument("--tree")
    p.add_argument("--vm")
    p.add_argument("--vm-logs")
    p.add_argument("--out", required=True)
    return report(p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
