"""Smoke test of the test bed: upstream kubeadm v1.20.2 `init` on a fresh node whose
kubelet runs the static Pods in containers (containerd + runc)."""
from __future__ import annotations

import os
import time

import pytest

from tests.testbed import bin_path
from tests.testbed.configs import init_config_v1beta2

pytestmark = [pytest.mark.testbed, pytest.mark.integration]


def test_upstream_kubeadm_init_on_node(testbed_node_factory):
    t0 = time.monotonic()
    node = testbed_node_factory("cp1")
    t_start = time.monotonic() - t0
    cfg = os.path.join(node.workdir, "kubeadm.yaml")
    with open(cfg, "w") as f:
        f.write(init_config_v1beta2(address=node.address, node_name=node.name))

    node.supervise_kubelet()  # starts the kubelet once kubeadm writes /var/lib/kubelet/config.yaml
    t1 = time.monotonic()
    r = node.run([bin_path("kubeadm"), "init", "--config", cfg, "--ignore-preflight-errors=all", "--v=1"],
                 timeout=480)
    t_init = time.monotonic() - t1
    assert "Your Kubernetes control-plane has initialized successfully" in r.stdout, r.stdout[-3000:]

    # API server answers /readyz with the admin credentials
    assert node.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"

    # the Node object registers
    deadline = time.monotonic() + 120
    while True:
        out = node.kubectl("get", "node", node.name, "-o", "name", check=False)
        if out.returncode == 0 and out.stdout.strip() == "node/" + node.name:
            break
        assert time.monotonic() < deadline, f"node {node.name} never registered: {out.stderr}"
        time.sleep(2)

    # the control plane runs as containers started by the kubelet
    ps = node.ctr("containers", "ls").stdout
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        assert component in ps, ps

    # etcd is healthy over TLS, with the certificates kubeadm generated
    pki = "/etc/kubernetes/pki/etcd"
    h = node.run(["etcdctl", "--endpoints", f"https://{node.address}:2379",
                  "--cacert", pki + "/ca.crt", "--cert", pki + "/healthcheck-client.crt",
                  "--key", pki + "/healthcheck-client.key", "endpoint", "health"],
                 env={"ETCDCTL_API": "3"}, timeout=60)
    assert "is healthy" in (h.stdout + h.stderr), h.stdout + h.stderr
    # `kubeadm reset` through the crictl/systemctl shims stops the kubelet and every container
    t2 = time.monotonic()
    node.run([bin_path("kubeadm"), "reset", "-f"], timeout=300)
    t_reset = time.monotonic() - t2
    assert not node.kubelet_running()
    assert node.ctr("tasks", "ls", "-q").stdout.split() == []
    assert os.listdir(node.path("/var/lib/etcd")) == []
    print(f"\n[testbed] kubeadm reset {t_reset:.1f}s", end="")
    print(f"\n[testbed] node start {t_start:.1f}s, kubeadm init {t_init:.1f}s, "
          f"kubelet starts {node.kubelet_starts}, timings {node.timings}")


def _init(node) -> None:
    cfg = os.path.join(node.workdir, "kubeadm.yaml")
    with open(cfg, "w") as f:
        f.write(init_config_v1beta2(address=node.address, node_name=node.name))
    node.supervise_kubelet()
    node.run([bin_path("kubeadm"), "init", "--config", cfg, "--ignore-preflight-errors=all"], timeout=480)


def test_upstream_kubeadm_join_worker(testbed_node_factory):
    """Two nodes on one private bridge: init on cp1, `kubeadm join` (TLS bootstrap) on w1."""
    cp = testbed_node_factory("cp1")
    w1 = testbed_node_factory("w1")
    assert cp.cgroup_root != w1.cgroup_root and cp.address != w1.address
    w1.supervise_kubelet()
    _init(cp)
    join = cp.run([bin_path("kubeadm"), "token", "create", "--print-join-command"]).stdout.split()
    assert join[:2] == ["kubeadm", "join"], join
    r = w1.run([bin_path("kubeadm"), *join[1:], "--ignore-preflight-errors=all",
                "--cri-socket=/run/containerd/containerd.sock"], timeout=300)
    assert "This node has joined the cluster" in r.stdout, r.stdout[-2000:]
    deadline = time.monotonic() + 120
    while True:
        out = cp.kubectl("get", "node", w1.name, "-o", "name", check=False)
        if out.returncode == 0 and out.stdout.strip() == "node/" + w1.name:
            break
        assert time.monotonic() < deadline, out.stderr
        time.sleep(2)


def test_process_runner_runs_static_pods_as_processes(testbed_node_factory):
    """Fallback without kubelet/containers: the static Pod manifests run as processes in the node."""
    from tests.testbed.process_runner import ProcessRunner

    node = testbed_node_factory("pr1", start=False)
    node.start(containerd=False)
    cfg = os.path.join(node.workdir, "kubeadm.yaml")
    with open(cfg, "w") as f:
        f.write(init_config_v1beta2(address=node.address, node_name=node.name))
    for phase in (["certs", "all"], ["kubeconfig", "all"], ["etcd", "local"], ["control-plane", "all"]):
        node.run([bin_path("kubeadm"), "init", "phase", *phase, "--config", cfg])
    with ProcessRunner(manifest_dir=node.path("/etc/kubernetes/manifests"), prefix=node.nsenter_argv(),
                       logdir=os.path.join(node.logdir, "pods")) as runner:
        node.wait_for_apiserver(timeout=180)
        assert set(runner.running()) == {"etcd/etcd", "kube-apiserver/kube-apiserver",
                                         "kube-controller-manager/kube-controller-manager",
                                         "kube-scheduler/kube-scheduler"}
        os.unlink(node.path("/etc/kubernetes/manifests/kube-scheduler.yaml"))
        deadline = time.monotonic() + 30
        while "kube-scheduler/kube-scheduler" in runner.running():
            assert time.monotonic() < deadline
            time.sleep(0.5)
    assert runner.running() == {}
