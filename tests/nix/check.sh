#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The NixOS files, checked without nixpkgs and without network. Installs nothing: it expects
# nix-instantiate on PATH (Debian: nix-bin) and exits 77 (skipped) without it.
#
#   1. nix-instantiate --parse on every .nix file of the repository;
#   2. nix/lib.nix (the selector grammar, the Timeout= and Driver= checks, the text of
#      /etc/vfio-bind.conf) evaluated against tests/nix/cases.nix; nix/module.nix evaluated
#      through tests/nix/stub.nix (a stand-in for nixpkgs' lib and module system) against
#      tests/nix/module.nix: the stage 1 unit, what goes into the initrd, defaults and warnings;
#   3. with VFIO_BINDD=path/to/vfio-bindd: every case and every generated configuration also
#      through `vfio-bindd --validate`, which must judge each the same way;
#   4. with VB_NIXPKGS=path/to/nixpkgs (a checkout, never fetched here): real NixOS evaluations
#      of nix/module.nix (tests/nix/nixos.nix): the unit, the configuration file, the kernel
#      parameters, stage 1, assertions and warnings, and bad option values failing by name.
#
# Usage: tests/nix/check.sh        (from anywhere; exit 0 passed, 1 failed, 77 skipped)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

if ! command -v nix-instantiate >/dev/null; then
        echo "tests/nix/check.sh: SKIP: nix-instantiate is not installed (Debian: nix-bin)"
        exit 77
fi

# No daemon, no store writes: evaluation only.
nix_eval() {
        nix-instantiate --store dummy:// --eval --strict --json "$@"
}

failed=0
fail() {
        echo "FAIL: $*" >&2
        failed=1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Parse.
n=0
while IFS= read -r -d '' f; do
        n=$((n + 1))
        if ! nix-instantiate --store dummy:// --parse "$f" >/dev/null 2>"$tmp/parse.err"; then
                fail "$f does not parse:"
                cat "$tmp/parse.err" >&2
        fi
done < <(find . \( -name .git -o -path './build*' -o -name 'result*' \) -prune -o -name '*.nix' -type f -print0)
echo "parsed $n .nix files"
[ "$n" -gt 0 ] || fail "no .nix file found under $top"

# 2. The pure helpers.
if nix_eval tests/nix/check.nix >"$tmp/check.json" 2>"$tmp/check.err"; then
        python3 - "$tmp/check.json" <<'PY' || failed=1
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["failures"]:
    print("FAIL: nix/lib.nix:", f, file=sys.stderr)
print(f"nix/lib.nix: {d['checked'] - len(d['failures'])}/{d['checked']} checks passed")
sys.exit(1 if d["failures"] else 0)
PY
else
        fail "tests/nix/check.nix does not evaluate:"
        cat "$tmp/check.err" >&2
fi

# 2b. nix/module.nix itself, through a stub of nixpkgs' lib and module system (tests/nix/stub.nix):
# above all systemd stage 1, which cannot be booted here, against the dracut unit that is.
module_ok=0
if nix_eval tests/nix/module.nix >"$tmp/module.json" 2>"$tmp/module.err"; then
        module_ok=1
        python3 - "$tmp/module.json" <<'PY' || failed=1
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["failures"]:
    print("FAIL: nix/module.nix (stub evaluation):", f, file=sys.stderr)
print(f"nix/module.nix offline: {d['checked'] - len(d['failures'])}/{d['checked']} checks passed "
      "(stage 1 unit, initrd contents, defaults, warnings)")
sys.exit(1 if d["failures"] else 0)
PY
else
        fail "tests/nix/module.nix does not evaluate:"
        tail -n 20 "$tmp/module.err" >&2
fi

# 2c. The stage 2 unit's ExecCondition (applyOnSwitch = false), run here with /run moved under
# $tmp: it lets a boot start the daemon and skips a start by nixos-rebuild switch.
if [ "$module_ok" = 1 ]; then
        python3 - "$tmp/module.json" "$tmp" <<'PY' || failed=1
import json, os, re, subprocess, sys
d = json.load(open(sys.argv[1]))
tmp = sys.argv[2]
cond = d["cases"].get("bootOnlyCondition")
m = re.fullmatch(r"\S+/bin/(?:ba)?sh -c '([^']*)'", cond or "")
if not m:
    print(f"FAIL: ExecCondition is not \"SHELL -c '…'\": {cond!r}", file=sys.stderr)
    sys.exit(1)
run = os.path.join(tmp, "run")
script = m.group(1).replace("/run/", run + "/")
bad = 0
# (booted-system, current-system) → should the daemon start?
cases = {
    "boot (both the same system)": ("gen-1", "gen-1", True),
    "switch (current-system is a newer generation)": ("gen-1", "gen-2", False),
    "no /run/booted-system (another init)": (None, "gen-2", True),
    "no /run/current-system": ("gen-1", None, True),
}
for what, (booted, current, want) in cases.items():
    subprocess.run(["rm", "-rf", run], check=True)
    os.makedirs(os.path.join(run, "store", "gen-1"))
    os.makedirs(os.path.join(run, "store", "gen-2"))
    for name, target in (("booted-system", booted), ("current-system", current)):
        if target:
            os.symlink(os.path.join(run, "store", target), os.path.join(run, name))
    got = subprocess.run(["sh", "-c", script]).returncode == 0
    if got != want:
        bad += 1
        print(f"FAIL: ExecCondition, {what}: {'starts' if got else 'skips'}", file=sys.stderr)
print(f"stage 2 ExecCondition: {len(cases) - bad}/{len(cases)} cases (boot starts, switch skips)")
sys.exit(1 if bad else 0)
PY
fi

# 3. The same cases through the C parser.
if [ -n "${VFIO_BINDD:-}" ]; then
        if [ ! -x "$VFIO_BINDD" ]; then
                fail "VFIO_BINDD=$VFIO_BINDD is not an executable"
        elif [ -s "$tmp/check.json" ]; then
                python3 - "$tmp/check.json" "$VFIO_BINDD" "$tmp" <<'PY' || failed=1
import json, os, subprocess, sys
d = json.load(open(sys.argv[1]))
daemon, tmp = sys.argv[2], sys.argv[3]
conf = os.path.join(tmp, "case.conf")

def validate(text):
    with open(conf, "w") as f:
        f.write(text)
    r = subprocess.run([daemon, "--validate", "--config=" + conf], capture_output=True, text=True)
    return r.returncode == 0, r.stderr.strip()

bad = n = 0
def judge(what, text, want):
    global bad, n
    n += 1
    ok, err = validate(text)
    if ok != want:
        bad += 1
        print(f"FAIL: {what}: Nix says {'valid' if want else 'invalid'}, vfio-bindd --validate says "
              f"{'valid' if ok else 'invalid: ' + err}", file=sys.stderr)

c = d["cases"]
for s in c["selectors"]:
    if s["value"] not in c["fileSyntax"]:
        judge(f"selector {s['value']!r}", f"[Bind]\nDevice={s['value']}\n", s["valid"])
for t in c["timeouts"]:
    if t["value"] not in c["fileSyntax"]:
        judge(f"Timeout={t['value']!r}", f"[Bind]\nDevice=0f:00.0\nTimeout={t['value']}\n", t["valid"])
for v in c["drivers"]:
    # An empty value or a line break is not a Driver= value the parser could see whole.
    if v["value"] and "\n" not in v["value"]:
        judge(f"Driver={v['value']!r}", f"[Bind]\nDevice=0f:00.0\nDriver={v['value']}\n", v["valid"])
for v in c["units"]:
    if v["value"]:
        judge(f"StopUnits={v['value']!r}", f"[Bind]\nDevice=0f:00.0\n[Handoff]\nStopUnits={v['value']}\n", v["valid"])
for cfg in c["configs"]:
    judge(f"generated configuration {cfg['name']!r}", cfg["text"], True)
print(f"vfio-bindd --validate: {n - bad}/{n} cases judged as nix/lib.nix judges them")
sys.exit(1 if bad else 0)
PY
        fi
else
        echo "vfio-bindd --validate cross-check: skipped (set VFIO_BINDD=path/to/vfio-bindd)"
fi

# 4. Real NixOS evaluations.
if [ -n "${VB_NIXPKGS:-}" ]; then
        nixos=(tests/nix/nixos.nix --arg nixpkgs "$VB_NIXPKGS")
        if nix_eval "${nixos[@]}" -A failures >"$tmp/nixos.json" 2>"$tmp/nixos.err"; then
                python3 - "$tmp/nixos.json" <<'PY' || failed=1
import json, sys
failures = json.load(open(sys.argv[1]))
for f in failures:
    print("FAIL: NixOS evaluation:", f, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
                [ "$failed" = 1 ] || echo "NixOS evaluation: module, unit, configuration, stage 1, assertions: ok"
        else
                fail "tests/nix/nixos.nix -A failures does not evaluate:"
                tail -n 20 "$tmp/nixos.err" >&2
        fi

        for bad in badDevice:services.vfio-bind.devices badForce:services.vfio-bind.force \
                   badTimeout:services.vfio-bind.timeout badDriver:services.vfio-bind.driver \
                   badVirtualFunctions:services.vfio-bind.virtualFunctions; do
                attr=${bad%%:*} option=${bad#*:}
                if nix_eval "${nixos[@]}" -A "$attr" >/dev/null 2>"$tmp/bad.err"; then
                        fail "$attr evaluated, but a bad $option must fail evaluation"
                elif ! grep -q "option \`$option" "$tmp/bad.err"; then
                        fail "$attr failed without naming $option:"
                        tail -n 5 "$tmp/bad.err" >&2
                else
                        echo "$attr: fails naming $option"
                fi
        done

        # Whole systems, the VM test and the flake's outputs: derivations computed, not built.
        for attr in drvPaths flake; do
                if nix_eval "${nixos[@]}" -A "$attr" >"$tmp/drv.json" 2>"$tmp/drv.err"; then
                        echo "$attr: $(cat "$tmp/drv.json")"
                else
                        fail "$attr does not evaluate:"
                        tail -n 20 "$tmp/drv.err" >&2
                fi
        done
else
        echo "NixOS evaluation: skipped (set VB_NIXPKGS=path/to/nixpkgs)"
fi

if [ "$failed" = 0 ]; then
        echo "tests/nix/check.sh: passed"
else
        echo "tests/nix/check.sh: FAILED" >&2
fi
exit "$failed"
