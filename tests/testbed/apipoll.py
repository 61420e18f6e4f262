"""Is the API served? A poller of several API servers on a test-bed network, and the outage figures
read from its samples.

:class:`ApiPoller` runs a small Python process in the network hub's namespace (the bridge's side, so
it reaches every node's address and belongs to none of them): one thread per server GETs
``/api/v1/namespaces/kube-system`` with the admin kubeconfig's client certificate every ``interval``
seconds (2 s timeout, a new connection each time) and prints ``<monotonic time> <address> <0|1>``.
A thread of the test process collects the lines. CLOCK_MONOTONIC is the same in both processes, so
the samples line up with times the test takes with :func:`time.monotonic`.

:func:`outages` turns the samples of a time window into the longest gap between two answers per
server and the longest time no server answered."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import yaml

POLLER = r"""
import http.client, ssl, sys, threading, time
ca, cert, key, interval, *servers = sys.argv[1:]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False  # each API server's certificate names its own address; the CA is checked
ctx.load_cert_chain(cert, key)
out = threading.Lock()

def poll(server):
    host, port = server.rsplit(":", 1)
    while True:
        t0 = time.monotonic()
        ok = False
        try:
            c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=2)
            c.request("GET", "/api/v1/namespaces/kube-system")
            ok = c.getresponse().status == 200
            c.close()
        except Exception:
            pass
        with out:
            print(f"{time.monotonic():.3f} {server} {int(ok)}", flush=True)
        time.sleep(max(0.0, float(interval) - (time.monotonic() - t0)))

for s in servers:
    threading.Thread(target=poll, args=(s,), daemon=True).start()
sys.stdin.read()  # until the test closes stdin
"""


@dataclass(frozen=True)
class Sample:
    t: float  # time.monotonic() when the answer (or the failure) came
    server: str
    ok: bool


@dataclass(frozen=True)
class Outages:
    polls: dict[str, int]  # samples per server in the window
    failed: dict[str, int]  # of which not answered
    longest_gap: dict[str, float]  # per server: longest time between two answers (window edges count)
    neither: float  # longest time in which no server answered

    def line(self) -> str:
        per = ", ".join(
            f"{s}: longest gap {self.longest_gap[s]:.1f} s ({self.failed[s]}/{self.polls[s]} polls failed)"
            for s in sorted(self.polls)
        )
        return f"{per}; neither served for {self.neither:.1f} s at most"


def longest_gap(times: Iterable[float], start: float, end: float) -> float:
    """The longest stretch of [start, end] without one of ``times`` (answers) in it."""
    edges = [start, *sorted(t for t in times if start <= t <= end), end]
    return max(b - a for a, b in zip(edges, edges[1:], strict=False))


def outages(samples: Sequence[Sample], servers: Sequence[str], start: float, end: float) -> Outages:
    inside = [s for s in samples if start <= s.t <= end]
    answers = {srv: [s.t for s in inside if s.server == srv and s.ok] for srv in servers}
    return Outages(
        polls={srv: sum(s.server == srv for s in inside) for srv in servers},
        failed={srv: sum(s.server == srv and not s.ok for s in inside) for srv in servers},
        longest_gap={srv: longest_gap(answers[srv], start, end) for srv in servers},
        neither=longest_gap([t for ts in answers.values() for t in ts], start, end),
    )


def admin_credentials(kubeconfig: str, into: str) -> tuple[str, str, str]:
    """The CA, client certificate and key embedded in ``kubeconfig``, written to files in ``into``
    (the key 0600): ``(ca, cert, key)`` paths."""
    with open(kubeconfig) as f:
        doc = yaml.safe_load(f)
    cluster = doc["clusters"][0]["cluster"]
    user = doc["users"][0]["user"]
    paths = []
    for name, data in (
        ("poll-ca.crt", cluster["certificate-authority-data"]),
        ("poll-admin.crt", user["client-certificate-data"]),
        ("poll-admin.key", user["client-key-data"]),
    ):
        path = os.path.join(into, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64decode(data))
        paths.append(path)
    return paths[0], paths[1], paths[2]


class ApiPoller:
    """``with ApiPoller(hub_pid, servers, creds) as p: ...``; ``p.samples`` then, ``p.outages(a, b)``."""

    def __init__(
        self, netns_pid: int, servers: Sequence[str], creds: tuple[str, str, str], interval: float = 0.5
    ) -> None:
        enter = ["nsenter", "-t", str(netns_pid), "-n"]
        self.argv = [*enter, sys.executable, "-c", POLLER, *creds, str(interval), *servers]
        self.servers = list(servers)
        self.samples: list[Sample] = []
        self.proc: subprocess.Popen[str] | None = None
        self.reader: threading.Thread | None = None
        self.started = 0.0

    def __enter__(self) -> ApiPoller:
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.started = time.monotonic()
        self.reader = threading.Thread(target=self._read, name="api-poller", daemon=True)
        self.reader.start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            t, server, ok = line.split()
            self.samples.append(Sample(float(t), server, ok == "1"))

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.reader is not None:
            self.reader.join(10)

    def outages(self, start: float, end: float) -> Outages:
        return outages(list(self.samples), self.servers, start, end)
