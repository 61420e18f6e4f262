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
    print(f"\n[testbed] node start {t_start:.1f}s, kubeadm init {t_init:.1f}s, "
          f"kubelet starts {node.kubelet_starts}, timings {node.timings}")
