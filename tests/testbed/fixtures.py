"""pytest fixtures for the test bed. Use from a conftest.py::

    from tests.testbed.fixtures import *  # noqa: F401,F403  (fixtures + report hook)

Fixtures:
    testbed             skips unless root and the cache is built; returns the cache dir
    testbed_network     a started :class:`Network` (own bridge), stopped afterwards
    testbed_node_factory
        ``make(name="node1", network="shared", **node_kwargs) -> Node`` (started);
        network="shared" (default): one bridge shared by the nodes of this test,
        network=None: the host network namespace, or pass a Network.
        Every node is stopped at teardown; if the test failed the logs are kept and
        their directory printed (``KUBEADM_PY_TESTBED_KEEP=always`` keeps them always).
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil

import pytest

from . import cache
from .network import Network
from .node import Node


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request) -> bool:
    for when in ("setup", "call"):
        rep = getattr(request.node, "rep_" + when, None)
        if rep is not None and rep.failed:
            return True
    return False


def cleanup_stale_cgroups() -> None:
    """Remove empty ``/sys/fs/cgroup/*/kpt-<name>-<pid>`` trees left by dead sessions."""
    root = "/sys/fs/cgroup"
    try:
        hier = os.listdir(root)
    except OSError:
        return
    for h in hier:
        hp = os.path.join(root, h)
        try:
            names = os.listdir(hp)
        except OSError:
            continue
        for n in names:
            m = re.match(r"kpt-.*-(\d+)$", n)
            if not m or os.path.exists(f"/proc/{m.group(1)}"):
                continue
            for dp, _dn, _fn in sorted(os.walk(os.path.join(hp, n)), key=lambda t: len(t[0]), reverse=True):
                with contextlib.suppress(OSError):
                    os.rmdir(dp)


def cleanup_stale_workdirs() -> None:
    """Remove node work dirs whose owning test process is gone (e.g. a killed session)."""
    base = os.environ.get("KUBEADM_PY_TESTBED_WORKDIR", "/var/tmp/kubeadm-py-testbed")
    try:
        names = os.listdir(base)
    except OSError:
        return
    for n in names:
        d = os.path.join(base, n)
        try:
            with open(os.path.join(d, "owner.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(d, ignore_errors=True)


def cleanup_stale() -> None:
    cleanup_stale_cgroups()
    cleanup_stale_workdirs()


@pytest.fixture
def testbed() -> str:
    reason = cache.skip_reason()
    if reason:
        pytest.skip(reason)
    return cache.cache_dir()


@pytest.fixture
def testbed_network(testbed, request):
    net = Network(name="kpt-" + request.node.name[:20])
    net.start()
    yield net
    net.stop()


@pytest.fixture
def testbed_node_factory(testbed, request):
    cleanup_stale()
    nodes: list[Node] = []
    nets: list[Network] = []

    def make(name: str = "node1", network: object = "shared", start: bool = True, **kw) -> Node:
        net: Network | None
        if network == "shared":
            if not nets:
                nets.append(Network().start())
            net = nets[0]
        else:
            net = network  # type: ignore[assignment]
        node = Node(name, network=net, **kw)
        nodes.append(node)
        if start:
            node.start()
        return node

    yield make
    failed = _failed(request)
    kept = []
    for n in reversed(nodes):
        try:
            k = n.stop(keep_logs=failed)
            if k:
                kept.append(k)
        except Exception as e:  # keep stopping the others
            print(f"[testbed] error stopping node {n.name}: {e!r}")
    for net in nets:
        net.stop()
    if kept:
        print("\n[testbed] kept logs: {}".format(" ".join(kept)))


@contextlib.contextmanager
def control_plane_node(request, name: str, net_name: str, config_text, pid1_name: str | None = None):
    """A started node whose kubelet runs as kubeadm's unit would, with ``config_text(address,
    name)`` written to ``<workdir>/kubeadm-py.yaml``: yields ``(node, config path)``; stops the
    node (keeping its logs if its setup or any test that used it failed) and its network
    afterwards. For module-scoped fixtures that share one cluster. ``pid1_name``: as
    :class:`Node`'s ("systemd": kubeadm-py drives the node's units through the systemctl shim)."""
    reason = cache.skip_reason()
    if reason:
        pytest.skip(reason)
    cleanup_stale_cgroups()
    net = Network(name=net_name).start()
    node = Node(name, network=net, pid1_name=pid1_name)
    failed = False
    # request.node is the module here: a failed test shows only in the session's count
    failed_before = request.session.testsfailed
    try:
        node.start()
        cfg = os.path.join(node.workdir, "kubeadm-py.yaml")
        with open(cfg, "w") as f:
            f.write(config_text(node.address, node.name))
        node.supervise_kubelet()
        yield node, cfg
    except BaseException:
        failed = True
        raise
    finally:
        kept = node.stop(keep_logs=failed or request.session.testsfailed > failed_before)
        net.stop()
        if kept:
            print(f"\n[testbed] kept logs: {kept}")


WORKER_CRI = "unix:///run/containerd/containerd.sock"


@contextlib.contextmanager
def init_and_join_worker(request, label: str, names: tuple[str, str], net_name: str, subnet: str,
                         token: str, timings: dict, pid1_name: str | None = None):  # fmt: skip
    """Two nodes with supervised kubelets: ``kubeadm-py init`` on the first (a v1beta4 config with
    ``token`` and the kube-proxy document), the second joined as a worker. Yields ``{"a", "b"}``;
    records ``cluster-setup`` in ``timings`` and prints them as ``[label] seconds``; stops both
    nodes (keeping logs if anything failed) and the network afterwards."""
    import json
    import sys
    import time

    from .configs import KUBE_PROXY_CONFIG, init_config_v1beta4

    reason = cache.skip_reason()
    if reason:
        pytest.skip(reason)
    cleanup_stale_cgroups()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def kubeadm_py(node: Node, *args: str) -> str:
        argv = [sys.executable, "-m", "kubeadm_py", *args]
        return node.run(argv, env={"PYTHONPATH": repo}, timeout=600).stdout

    net = Network(name=net_name, subnet=subnet).start()
    a, b = (Node(n, network=net, pid1_name=pid1_name) for n in names)
    failed = False
    try:
        t0 = time.monotonic()
        for n in (a, b):
            n.start()
            n.supervise_kubelet()
        cfg = os.path.join(a.workdir, "init.yaml")
        text = init_config_v1beta4(a.address, a.name, token=token, control_plane_endpoint=f"{a.address}:6443")
        with open(cfg, "w") as f:
            # kube-proxy must leave the global conntrack sysctls alone in a node's network namespace:
            # without this document it crash-loops (nf_conntrack_max: permission denied)
            f.write(text + "---\n" + KUBE_PROXY_CONFIG)
        init = kubeadm_py(a, "init", "--config", cfg, "--ignore-preflight-errors=all", "-o", "json")
        out = json.loads(init)
        kubeadm_py(
            b, "join", f"{a.address}:6443", "--token", token, "--discovery-token-ca-cert-hash",
            out["outputs"]["ca_cert_hash"], "--cri-socket", WORKER_CRI, "--node-name", b.name,
            "--ignore-preflight-errors=all",
        )  # fmt: skip
        timings["cluster-setup"] = time.monotonic() - t0
        yield {"a": a, "b": b}
    except BaseException:
        failed = True
        raise
    finally:
        print(f"\n[{label}] seconds: { {k: round(v, 1) for k, v in timings.items()} }")
        for n in (b, a):
            kept = n.stop(keep_logs=failed or request.session.testsfailed > 0)
            if kept:
                print(f"\n[testbed] kept logs: {kept}")
        net.stop()
