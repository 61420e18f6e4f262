"""Our etcd, control-plane, kubelet-start and wait-control-plane phases on a real v1.20.2 test-bed node:
the real kubelet runs our static Pods (containerd + runc) and the components come up healthy.

Certificates and kubeconfig files come from the reference kubeadm v1.20.2 (``init phase certs all`` and
``init phase kubeconfig all``), so this test depends only on the area under test."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time

import pytest

from tests.testbed import bin_path
from tests.testbed.configs import init_config_v1beta2

pytestmark = [pytest.mark.testbed, pytest.mark.integration]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DRIVER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {repo!r})
    from kubeadm_py import api
    from kubeadm_py.config.types import KubeadmConfig
    from kubeadm_py.phases.shared.control_plane import control_plane_phase
    from kubeadm_py.phases.init.etcd import etcd_phase
    from kubeadm_py.phases.shared.kubelet_start import kubelet_start_phase
    from kubeadm_py.phases.shared.wait_control_plane import wait_control_plane_phase
    from kubeadm_py.workflow.phase import flatten
    from kubeadm_py.workflow.report import NullReporter

    class Print(NullReporter):
        def message(self, text):
            print(text, flush=True)

    p = json.loads({params!r})
    cluster = {{
        "kubernetesVersion": "v1.20.2", "imageRepository": "registry.k8s.io",
        "certificatesDir": "/etc/kubernetes/pki", "clusterName": "kubernetes",
        "networking": {{"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"}},
        "etcd": {{"local": {{"dataDir": "/var/lib/etcd"}}}},
        "scheduler": {{"extraArgs": [{{"name": "v", "value": "2"}}]}},
    }}
    init = {{
        "localAPIEndpoint": {{"advertiseAddress": p["address"], "bindPort": 6443}},
        "nodeRegistration": {{"name": p["name"], "criSocket": "unix:///run/containerd/containerd.sock"}},
        "timeouts": {{"controlPlaneComponentHealthCheck": "4m0s", "kubeletHealthCheck": "2m0s"}},
    }}
    kubelet = {{"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
               "cgroupDriver": "cgroupfs", "failSwapOn": False}}
    cfg = KubeadmConfig(cluster=cluster, init=init, kubelet=kubelet)
    ctx = api.build_context("init", {{}}, Print(), cfg=cfg)
    for phase in (etcd_phase(), control_plane_phase(), kubelet_start_phase(), wait_control_plane_phase()):
        for f in flatten((phase,)):
            if f.phase.run:
                f.phase.run(ctx)
    print("DRIVER-OK")
    """
)


def test_our_static_pods_run_on_a_real_kubelet(testbed_node_factory):
    node = testbed_node_factory("cp1")
    cfg = os.path.join(node.workdir, "kubeadm.yaml")
    with open(cfg, "w") as f:
        f.write(init_config_v1beta2(address=node.address, node_name=node.name))
    for phase in (["certs", "all"], ["kubeconfig", "all"]):
        node.run([bin_path("kubeadm"), "init", "phase", *phase, "--config", cfg], timeout=120)

    node.supervise_kubelet()  # the kubelet starts once our kubelet-start writes config.yaml
    driver = os.path.join(node.workdir, "driver.py")
    with open(driver, "w") as f:
        f.write(DRIVER.format(repo=REPO, params=json.dumps({"address": node.address, "name": node.name})))
    t0 = time.monotonic()
    r = node.run([sys.executable, driver], timeout=420, check=False)
    elapsed = time.monotonic() - t0
    assert r.returncode == 0 and "DRIVER-OK" in r.stdout, (r.stdout[-4000:], r.stderr[-4000:])
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert f"[control-plane-check] {comp} is healthy after" in r.stdout, r.stdout
    assert "[kubelet-check] kubelet is healthy after" in r.stdout

    # our flags file is what the kubelet runs with
    flags = open(node.path("/var/lib/kubelet/kubeadm-flags.env")).read()  # noqa: SIM115
    assert (
        "--container-runtime=remote --container-runtime-endpoint=unix:///run/containerd/containerd.sock"
        in flags
    )

    # the API server serves with the certificates and etcd behind it
    assert node.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"
    pki = "/etc/kubernetes/pki/etcd"
    h = node.run(
        [
            "etcdctl",
            "--endpoints",
            f"https://{node.address}:2379",
            "--cacert",
            pki + "/ca.crt",
            "--cert",
            pki + "/healthcheck-client.crt",
            "--key",
            pki + "/healthcheck-client.key",
            "endpoint",
            "health",
        ],
        env={"ETCDCTL_API": "3"},
        timeout=60,
        check=False,
    )
    assert "is healthy" in (h.stdout + h.stderr), h.stdout + h.stderr
    # the mirror Pods carry our labels/annotations and the scheduler extraArg
    # (mirror Pods appear once the kubelet has registered the Node)
    want = {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}
    deadline = time.monotonic() + 120
    while True:
        pods = json.loads(
            node.kubectl(
                "get", "pods", "-n", "kube-system", "-l", "tier=control-plane", "-o", "json", timeout=60
            ).stdout
        )
        by_name = {p["metadata"]["labels"]["component"]: p for p in pods["items"]}
        if set(by_name) >= want or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert set(by_name) >= want, sorted(by_name)
    assert "--v=2" in by_name["kube-scheduler"]["spec"]["containers"][0]["command"]
    assert (
        by_name["etcd"]["metadata"]["annotations"]["kubeadm.kubernetes.io/etcd.advertise-client-urls"]
        == f"https://{node.address}:2379"
    )
    print(f"\n[manifests-testbed] phases etcd..wait-control-plane took {elapsed:.1f}s")
