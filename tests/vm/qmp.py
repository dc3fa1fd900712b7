#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Send one QMP command to a QEMU monitor socket and print the reply.

Usage: qmp.py SOCKET COMMAND [KEY=VALUE ...]
Example: qmp.py qmp.sock device_add driver=e1000e bus=rp3 id=hotnic

Exits 0 when QEMU answers "return", 1 when it answers "error" or cannot be reached.
"""

import json
import socket
import sys
import time


def read_message(f):
    """The next reply or greeting, skipping asynchronous events."""
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("QEMU closed the monitor")
        msg = json.loads(line)
        if "event" not in msg:
            return msg


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, command = argv[1], argv[2]
    arguments = dict(a.split("=", 1) for a in argv[3:])

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + 10
    while True:
        try:
            sock.connect(path)
            break
        except OSError as e:
            if time.monotonic() > deadline:
                print(f"qmp: cannot connect to {path}: {e}", file=sys.stderr)
                return 1
            time.sleep(0.1)
    sock.settimeout(30)
    f = sock.makefile("rw", encoding="utf-8")
    read_message(f)  # greeting
    for cmd in ({"execute": "qmp_capabilities"},
                {"execute": command, "arguments": arguments}):
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        reply = read_message(f)
        if "error" in reply:
            print(f"qmp: {cmd['execute']}: {reply['error'].get('desc', reply['error'])}",
                  file=sys.stderr)
            return 1
    print(json.dumps(reply))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
