"""Init/keeper process of a test-bed node (runs as PID 1 of the node's PID namespace).

Started by :mod:`tests.testbed.node` as::

    unshare --pid --fork --mount-proc --mount --uts [--net] --propagation private \
            --kill-child=SIGKILL python3 keeper.py SPEC.json

It sets the hostname, bind-mounts the node's own directories over the host paths
(only inside the node's private mount namespace), brings up ``lo``, writes the
ready file, then reaps orphans until it is killed or its lifetime runs out.
When it exits, the kernel kills every other process of the PID namespace
(kubelet, containerd, shims and containers) and the namespaces disappear.

Stdlib only; must not import anything from the repository.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time


def main() -> int:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    ready = spec["ready_file"]
    try:
        if spec.get("hostname"):
            socket.sethostname(spec["hostname"])
        for src, dst in spec.get("binds", []):
            os.makedirs(src, exist_ok=True)
            if not os.path.exists(dst):
                os.makedirs(dst, exist_ok=True)
            subprocess.run(["mount", "--bind", src, dst], check=True)
            subprocess.run(["mount", "--make-private", dst], check=True)
        for src, dst in spec.get("file_binds", []):
            subprocess.run(["mount", "--bind", src, dst], check=True)
        if spec.get("net"):
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        if spec.get("comm"):  # /proc/1/comm of the node: "systemd" lets tools drive the systemctl shim
            import ctypes

            if ctypes.CDLL(None, use_errno=True).prctl(15, spec["comm"].encode()[:15], 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")
    except Exception as e:  # report and die: the node fails to start
        with open(ready + ".tmp", "w") as f:
            f.write(f"error: {e}\n")
        os.replace(ready + ".tmp", ready)
        return 1
    with open(ready + ".tmp", "w") as f:
        f.write("ok\n")
    os.replace(ready + ".tmp", ready)

    deadline = time.monotonic() + float(spec.get("max_lifetime", 3600))
    stop = False

    def _term(*_a: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    while not stop and time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid:
                continue
        except ChildProcessError:
            pass
        time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
