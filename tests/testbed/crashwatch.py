"""When did a component's container first exit? A thread reading the node's container runtime
through kubeadm-py's own CRI client (the socket is bind-mounted from the node's work directory),
for the fail-fast checks and bench/failfast.py: the first exit's ``finished_at`` as the runtime
reports it (wall clock), so "first crash to the command's exit" is measured, not guessed."""

from __future__ import annotations

import contextlib
import threading
import time


class FirstCrash:
    def __init__(self, node, component: str, interval: float = 0.5) -> None:  # type: ignore[no-untyped-def]
        self.endpoint = f"unix://{node.path('/run/containerd/containerd.sock')}"
        self.component = component
        self.interval = interval
        self.since = time.time()
        self.first_exit: float | None = None  # wall clock
        self.exits: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FirstCrash:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        from kubeadm_py.host.cri import CriClient, CriError

        with CriClient(self.endpoint, timeout=5) as cri:
            while not self._stop.wait(self.interval):
                with contextlib.suppress(CriError):
                    for c in cri.list_containers("kube-system"):
                        if c.name != self.component or c.state != "exited" or c.created_at < self.since:
                            continue
                        st = cri.container_status(c.id)
                        self.exits.add(c.id)
                        if st.finished_at and (self.first_exit is None or st.finished_at < self.first_exit):
                            self.first_exit = st.finished_at
