#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The man pages' lists against the code, so that they cannot drift apart again (issue 27).

  vfio-bind(1)       the JSON members against what `status --json` prints (every member at
                     every level, run on a fake tree with a device, a VirtualFunctions= line, a
                     vtconsole and a boot framebuffer); the values listed for devices' action
                     and reason and sriov's action against the code's tables (lib/plan-text.c);
                     OPTIONS against the option table of cli/vfio-bind.c; each verb's options
                     in SYNOPSIS against what the program accepts for that verb (run with each
                     option), and against what the bash and zsh completions offer for it
  vfio-bindd(8)      OPTIONS and SYNOPSIS against daemon/vfio-bindd.c's option table and the
                     completions; the order of the steps (module, then console) against
                     vb_apply() in lib/apply.c
  vfio-bind.conf(5)  the keys of [Bind] and [Console] against lib/config.c's key table, the
                     keys that may repeat against the table's repeatable ones, the limits
                     against lib/config.h; examples/*.conf's "defaults" against each key's
                     "Default:"

Each comparison fails in both directions: something in the code and not in the document, or
the other way round.

Usage: test-docs.py SOURCE_ROOT VFIO_BIND VFIO_BINDD
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

top, cli, daemon = sys.argv[1:4]
failures = []
checks = 0


def check(what, ok, detail=""):
    global checks
    checks += 1
    if ok:
        print(f"ok - {what}")
    else:
        failures.append(what)
        print(f"not ok - {what}" + (f"\n#   {detail}" if detail else ""))


def compare(what, code, doc, code_name="code", doc_name="document"):
    code, doc = set(code), set(doc)
    detail = []
    if code - doc:
        detail.append(f"in the {code_name} but not in the {doc_name}: {sorted(code - doc)}")
    if doc - code:
        detail.append(f"in the {doc_name} but not in the {code_name}: {sorted(doc - code)}")
    check(what, code == doc and len(code) > 0, "; ".join(detail) or "both empty")


def read(path):
    with open(os.path.join(top, path), encoding="utf-8") as f:
        return f.read()


def section(text, heading):
    """The text of `# HEADING` up to the next top-level heading."""
    m = re.search(r"^# " + re.escape(heading) + r"\n(.*?)(?=^# |\Z)", text, re.M | re.S)
    if not m:
        raise SystemExit(f"no section # {heading}")
    return m.group(1)


def c_table(source, name):
    """The body of `... NAME[...] = { ... };` in a C file."""
    m = re.search(re.escape(name) + r"\s*\[[^\]]*\]\s*=\s*\{(.*?)\}\s*;", source, re.S)
    if not m:
        raise SystemExit(f"no table {name}")
    return m.group(1)


def c_enum_strings(source, name):
    return re.findall(r'\[\w+\]\s*=\s*"([^"]+)"', c_table(source, name))


def c_options(source):
    """getopt_long's table: --NAME, with "=" when it takes an argument."""
    return {
        "--" + n + ("=" if arg == "required" else "")
        for n, arg in re.findall(r'\{\s*"([a-z-]+)",\s*(no|required|optional)_argument', c_table(source, "options"))
    }


# ---- vfio-bind(1): JSON members ----

man1 = read("man/vfio-bind.1.scd")
json_text = section(man1, "JSON OUTPUT")
members_text = json_text[json_text.index("The members"):]


def doc_members(text):
    """Definition-list headers, *a* or *a*, *b*, nested by tabs, as dotted paths."""
    paths, stack = set(), []
    for line in text.split("\n"):
        m = re.fullmatch(r"(\t*)((?:\*[a-z_]+\*(?:, )?)+)", line)
        if not m:
            continue
        level = len(m.group(1))
        names = re.findall(r"\*([a-z_]+)\*", m.group(2))
        del stack[level:]
        for n in names:
            paths.add(".".join(stack + [n]))
        stack.append(names[0])
    return paths


def doc_values(text, path):
    """The "- *value*: ..." items under the member at PATH."""
    lines = text.split("\n")
    want = path.split(".")
    stack, out, inside = [], [], None
    for line in lines:
        m = re.fullmatch(r"(\t*)((?:\*[a-z_]+\*(?:, )?)+)", line)
        if m:
            level = len(m.group(1))
            names = re.findall(r"\*([a-z_]+)\*", m.group(2))
            del stack[level:]
            stack.append(names[0])
            inside = level if stack == want else None
            continue
        v = re.match(r"\t+- \*([a-z-]+)\*", line)
        if inside is not None and v:
            out.append(v.group(1))
    return out


def json_paths(value, prefix=""):
    paths = set()
    if isinstance(value, dict):
        for k, v in value.items():
            p = prefix + k
            paths.add(p)
            paths |= json_paths(v, p + ".")
    elif isinstance(value, list):
        for v in value:
            paths |= json_paths(v, prefix)
    return paths


tmp = tempfile.mkdtemp(prefix="test-docs.")
try:
    conf = os.path.join(tmp, "vfio-bind.conf")
    with open(conf, "w") as f:
        f.write("[Bind]\nDevice=0000:01:00.0\nVirtualFunctions=0000:03:00.0 2\n")
    tree = os.path.join(top, "tests/sysfs/desktop")
    r = subprocess.run([cli, "--root=" + tree, "--config=" + conf, "status", "--json"], capture_output=True, text=True)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        raise SystemExit(f"vfio-bind status --json printed no JSON:\n{r.stdout}{r.stderr}")
    # every array must have an element, or its members cannot be seen
    for p, v in (("devices", out["devices"]), ("sriov", out["sriov"]), ("console.vtconsoles", out["console"]["vtconsoles"]),
                 ("console.framebuffers", out["console"]["framebuffers"])):
        check(f"vfio-bind status --json on tests/sysfs/desktop has an element of {p}", len(v) > 0)
    compare("vfio-bind(1) JSON OUTPUT: the members, at every level", json_paths(out), doc_members(members_text),
            "output of status --json", "man page")

    plan_c = read("lib/plan-text.c")
    compare("vfio-bind(1) JSON OUTPUT: devices' action values", c_enum_strings(plan_c, "action_table"),
            doc_values(members_text, "devices.action"), "lib/plan-text.c action_table", "man page")
    compare("vfio-bind(1) JSON OUTPUT: devices' reason values",
            set(c_enum_strings(plan_c, "reason_table")) - {"none"},  # "none" is printed as null
            doc_values(members_text, "devices.reason"), "lib/plan-text.c reason_table", "man page")
    compare("vfio-bind(1) JSON OUTPUT: sriov's action values", c_enum_strings(plan_c, "sriov_action_table"),
            doc_values(members_text, "sriov.action"), "lib/plan-text.c sriov_action_table", "man page")

    # ---- vfio-bind(1): options ----

    def doc_option_headers(text):
        opts = set()
        for line in text.split("\n"):
            if line.startswith("*-"):
                opts |= set(re.findall(r"\*(--[a-z-]+=?)\*", line))
        return opts

    cli_code = c_options(read("cli/vfio-bind.c"))
    compare("vfio-bind(1) OPTIONS: every option of cli/vfio-bind.c's table", cli_code,
            doc_option_headers(section(man1, "OPTIONS")), "cli/vfio-bind.c", "man page")

    synopsis = section(man1, "SYNOPSIS")
    verbs = ["groups", "status", "check", "bind", "release", "dump"]
    doc_verb = {}
    for v in verbs:
        m = re.search(r"^\*vfio-bind " + v + r"\*(.*)$", synopsis, re.M)
        check(f"vfio-bind(1) SYNOPSIS has {v}", m is not None)
        doc_verb[v] = set(re.findall(r"\*(--[a-z-]+=?)\*", m.group(1) if m else ""))
    # global lines: *vfio-bind* *--root=*_PATH_ *groups*|*status*|... ...
    globals_ = set()
    for line in re.findall(r"^\*vfio-bind\* (.*)$", synopsis, re.M):
        opts = set(re.findall(r"\*(--[a-z-]+=?)\*", line))
        listed = [v for v in verbs if f"*{v}*" in line]
        for v in listed:
            doc_verb[v] |= opts
        if not listed:
            globals_ |= opts
    compare("vfio-bind(1) SYNOPSIS: the options named there are the program's", cli_code,
            set().union(*doc_verb.values()) | globals_, "cli/vfio-bind.c", "SYNOPSIS")

    # What the program accepts per verb: each option alone after the verb. --root=/nonexistent
    # keeps every run off this machine (bind and release refuse it after the usage checks).
    def accepts(verb, opt):
        args = [cli, "--root=/nonexistent-vfio-bind-dump", verb]
        if verb in ("bind", "release"):
            args.append("0000:00:00.0")
        elif verb == "dump":
            args.append(os.path.join(tmp, "dump.tar"))
        args.append(opt + ("x" if opt.endswith("=") else ""))
        r = subprocess.run(args, capture_output=True, text=True)
        return not (r.returncode == 2 and "understood by" in r.stderr)

    # An option a verb accepts without using it is said so in OPTIONS: "*VERB* ... accepts it
    # and ignores it" in the option's paragraph.
    ignored = {v: set() for v in verbs}
    for opt, para in re.findall(r"^\*(--[a-z-]+=?)\*[^\n]*\n((?:\t[^\n]*\n?)*)", section(man1, "OPTIONS"), re.M):
        for v in re.findall(r"\*(\w+)\*[^.;]*accepts it and ignores it", para.replace("\n", " ")):
            if v in ignored:
                ignored[v].add(opt)
    for v in verbs:
        accepted = {o for o in cli_code - globals_ - {"--root="} if accepts(v, o)}
        compare(f"vfio-bind {v}: the options it accepts are those of its SYNOPSIS (and those it ignores)", accepted,
                (doc_verb[v] | ignored[v]) - {"--root="}, "program", "SYNOPSIS")

    # The bash completion, run: what `vfio-bind VERB --` offers is --help and the verb's options.
    bash = shutil.which("bash")
    zsh_file = read("completions/_vfio-bind")

    def bash_offers(script, function, line):
        prog = (f'source {json.dumps(os.path.join(top, script))}; COMP_LINE={json.dumps(line)}; '
                f'COMP_POINT=${{#COMP_LINE}}; COMPREPLY=(); {function} x; printf "%s\\n" "${{COMPREPLY[@]}}"')
        r = subprocess.run([bash, "--norc", "-c", prog], capture_output=True, text=True)
        return {w for w in r.stdout.split("\n") if w}

    def zsh_verb_options(verb):
        m = re.search(r"^\s*" + verb + r"\)\n(.*?);;", zsh_file, re.M | re.S)
        if not m:
            return set()
        opts = set(re.findall(r"'(?:\([^)]*\))?(--[a-z-]+=?)\[", m.group(1)))
        if re.search(r"\{-h,--help\}", m.group(1)):
            opts.add("--help")
        return opts

    for v in verbs:
        want = doc_verb[v] | {"--help"}
        if bash:
            compare(f"bash completion of vfio-bind {v} offers the options of its SYNOPSIS",
                    bash_offers("completions/vfio-bind.bash", "_vfio_bind", f"vfio-bind {v} --"), want,
                    "completion", "SYNOPSIS")
        compare(f"zsh completion of vfio-bind {v} offers the options of its SYNOPSIS", zsh_verb_options(v), want,
                "completion", "SYNOPSIS")

    # ---- vfio-bindd(8) ----

    man8 = read("man/vfio-bindd.8.scd")
    daemon_code = c_options(read("daemon/vfio-bindd.c"))
    compare("vfio-bindd(8) OPTIONS: every option of daemon/vfio-bindd.c's table", daemon_code,
            doc_option_headers(section(man8, "OPTIONS")), "daemon/vfio-bindd.c", "man page")
    compare("vfio-bindd(8) SYNOPSIS: the options named there are the program's", daemon_code,
            set(re.findall(r"\*(--[a-z-]+=?)\*", section(man8, "SYNOPSIS"))), "daemon/vfio-bindd.c", "SYNOPSIS")
    if bash:
        offered = (bash_offers("completions/vfio-bindd.bash", "_vfio_bindd", "vfio-bindd --")
                   | bash_offers("completions/vfio-bindd.bash", "_vfio_bindd", "vfio-bindd --dry-run --")
                   | bash_offers("completions/vfio-bindd.bash", "_vfio_bindd", "vfio-bindd --once --"))
        compare("bash completion of vfio-bindd offers its options", offered, daemon_code, "completion", "program")
    zsh_d = read("completions/_vfio-bindd")
    zopts = set(re.findall(r"'(?:\([^)]*\))?(--[a-z-]+=?)\[", zsh_d))
    if "{-h,--help}" in zsh_d:
        zopts.add("--help")
    compare("zsh completion of vfio-bindd offers its options", zopts, daemon_code, "completion", "program")

    # The order of the steps: the module before the console, in the man page and in vb_apply().
    steps = [l for l in section(man8, "DESCRIPTION").split("\n") if l.startswith(". ")]
    i_module = next((i for i, l in enumerate(steps) if "module" in l), None)
    i_console = next((i for i, l in enumerate(steps) if "console" in l), None)
    apply_c = read("lib/apply.c")
    body = apply_c[apply_c.index("int vb_apply("):]
    code_module_first = body.index("load_modules(ctx") < body.index("vb_console_release(ctx")
    check("vfio-bindd(8): the steps name the module and the console",
          i_module is not None and i_console is not None)
    check("vfio-bindd(8): the module is loaded before the console is released, as vb_apply() does",
          i_module is not None and i_console is not None and (i_module < i_console) == code_module_first,
          f"man page: module step {i_module}, console step {i_console}; code loads the module first: {code_module_first}")

    # ---- vfio-bind.conf(5) ----

    man5 = read("man/vfio-bind.conf.5.scd")
    config_c = read("lib/config.c")
    table = re.findall(r'\{\s*SECTION_(\w+),\s*"(\w+)",\s*(\w+),', c_table(config_c, "key_table"))
    for sect in ("Bind", "Console"):
        doc_keys = re.findall(r"^\*(\w+)=\*", section(man5, f"[{sect}] SECTION"), re.M)
        compare(f"vfio-bind.conf(5) [{sect}]: its keys are lib/config.c's key_table's",
                {k for s, k, _ in table if s == sect.upper()}, doc_keys, "lib/config.c", "man page")
    m = re.search(r"Keys that may be given more than once:(.*?)\.\s", section(man5, "SYNTAX"), re.S)
    compare("vfio-bind.conf(5) SYNTAX: the keys that may repeat are the table's repeatable ones",
            {k for _, k, setting in table if setting == "_VB_SETTING_INVALID"},
            re.findall(r"\*(\w+)=\*", m.group(1) if m else ""), "lib/config.c", "man page")
    config_h = read("lib/config.h")
    limits = re.search(r"- Limits:(.*?)(?=\n- |\n\n)", section(man5, "SYNTAX"), re.S)
    for name in ("VB_CONFIG_SELECTORS_MAX", "VB_CONFIG_DROPINS_MAX"):
        value = re.search(r"#define " + name + r"\s+(\d+)", config_h).group(1)
        check(f"vfio-bind.conf(5) SYNTAX: the limits name {name} ({value})",
              limits is not None and re.search(r"\b" + value + r"\b", limits.group(1)) is not None)

    # examples/*.conf: a block introduced as "the defaults" holds each key's documented default.
    defaults = {}
    for key, block in re.findall(r"^\*(\w+)=\*[^\n]*\n(.*?)(?=^\*\w+=\*|^# |\Z)", man5, re.M | re.S):
        d = re.search(r"Default: \*([^*]+)\*", block)
        if d:
            defaults[key] = d.group(1)
    for name in sorted(os.listdir(os.path.join(top, "examples"))):
        text = read(os.path.join("examples", name))
        m = re.search(r"^# The defaults.*?\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
        if not m:
            continue
        for key, value in re.findall(r"^(\w+)=(.*)$", m.group(1), re.M):
            check(f"examples/{name}: {key}={value} is the default vfio-bind.conf(5) gives",
                  defaults.get(key) == value.strip(), f"vfio-bind.conf(5) says Default: {defaults.get(key)}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
