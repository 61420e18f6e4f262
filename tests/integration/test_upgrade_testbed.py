"""``kubeadm-py upgrade apply`` on a test-bed node: a cluster made by upstream kubeadm v1.20.2 (real
kubelet, containerd, runc; static Pods in containers), upgraded in place by kubeadm-py with a
configuration change. The kubelet itself restarts the static Pods and publishes the mirror Pods whose
``kubernetes.io/config.hash`` the upgrade waits for.

1. A broken change (an API server flag that does not exist): the kubelet crash-loops the new
   container; kubeadm-py sees it exit twice through the CRI (issue 17) and restores the previous
   manifest within seconds instead of at the timeout; the API server is healthy again and the
   command fails naming kube-apiserver, its exit code and its log line. The same with an audit
   policy file that exists but is no policy; an audit policy file no volume holds
   (``/nonexistent``) is refused before anything changes.
2. A good change (a new extraArg and certSAN, written in v1beta2 as kubeadm v1.20 stores it):
   the kube-apiserver container runs with the new flag, serves the new SAN, ``kubeadm-config`` holds
   the change (now v1beta4) and the node keeps working."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.testbed import bin_path
from tests.testbed.configs import init_config_v1beta2
from tests.testbed.crashwatch import FirstCrash

pytestmark = [pytest.mark.testbed, pytest.mark.integration]
REPO = Path(__file__).resolve().parents[2]


def kubeadm_py(node, *args: str, timeout: float = 600):  # type: ignore[no-untyped-def]
    return node.run(
        [sys.executable, "-m", "kubeadm_py", *args],
        env={"PYTHONPATH": str(REPO)},
        cwd=str(REPO),
        timeout=timeout,
        check=False,
    )


def mirror_hash(node) -> str:  # type: ignore[no-untyped-def]
    r = node.kubectl(
        "-n", "kube-system", "get", "pod", f"kube-apiserver-{node.name}",
        "-o", "jsonpath={.metadata.annotations.kubernetes\\.io/config\\.hash}", check=False,
    )  # fmt: skip
    return r.stdout.strip() if r.returncode == 0 else ""


def write_change(node, name: str, extra_args: dict[str, str], sans: list[str] | None = None) -> str:  # type: ignore[no-untyped-def]
    text = node.kubectl(
        "-n", "kube-system", "get", "cm", "kubeadm-config", "-o", "jsonpath={.data.ClusterConfiguration}"
    ).stdout
    doc = yaml.safe_load(text)
    api = doc.setdefault("apiServer", {})
    if doc["apiVersion"].endswith("v1beta2"):
        api.setdefault("extraArgs", {}).update(extra_args)
    else:
        api.setdefault("extraArgs", []).extend({"name": k, "value": v} for k, v in extra_args.items())
    if sans:
        api["certSANs"] = sans
    path = f"/etc/kubernetes/tmp-{name}.yaml"
    Path(node.path(path)).write_text(yaml.safe_dump(doc))
    return path


def test_upgrade_apply_on_a_real_kubelet(testbed_node_factory) -> None:  # type: ignore[no-untyped-def]
    node = testbed_node_factory("up1")
    cfg = Path(node.workdir) / "kubeadm.yaml"
    cfg.write_text(init_config_v1beta2(address=node.address, node_name=node.name))
    node.supervise_kubelet()
    r = node.run(
        [bin_path("kubeadm"), "init", "--config", str(cfg), "--ignore-preflight-errors=all"], timeout=480
    )
    assert "initialized successfully" in r.stdout, r.stdout[-3000:]
    node.wait_for_apiserver()
    deadline = time.monotonic() + 180
    while not mirror_hash(node):
        assert time.monotonic() < deadline, "no kube-apiserver mirror Pod"
        time.sleep(2)
    manifest = Path(node.path("/etc/kubernetes/manifests/kube-apiserver.yaml"))
    original = manifest.read_text()

    # 1. broken: rolled back as soon as the new container has exited twice (the default 5m timeout)
    took: dict[str, float] = {}
    # an unknown flag is refused offline (v1.20's flag table is complete) unless the check is
    # skipped, as for a patched build's flag: then the watch catches the API server's exits
    for case, args, words, more in (
        ("unknown-flag", {"no-such-flag": "1"}, "unknown flag: --no-such-flag", "UnknownExtraArgs"),
        ("audit-policy", {"audit-policy-file": "/etc/kubernetes/pki/ca.crt"}, "audit", ""),
    ):
        bad = write_change(node, case, args)
        ignore = [f"--ignore-preflight-errors={more}"] if more else []
        t0 = time.monotonic()
        with FirstCrash(node, "kube-apiserver") as crash:
            res = kubeadm_py(node, "upgrade", "apply", "v1.20.2", "--config", bad, "-y", *ignore)
            ended = time.time()
        took[case] = time.monotonic() - t0
        after_crash = ended - crash.first_exit if crash.first_exit else float("nan")
        print(f"\n[upgrade-testbed] {case}: exit {took[case]:.1f}s, {after_crash:.1f}s after first crash")
        print("[upgrade-testbed] " + (res.stderr.strip().splitlines() or [""])[-1])
        for line in res.stdout.splitlines():  # what the rollback did, for the CI log
            if line.startswith("[upgrade/rollback]"):
                print(f"[upgrade-testbed] {line}")
        assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]
        assert "the upgrade of kube-apiserver failed: kube-apiserver exited" in res.stderr, res.stderr
        assert "exit code 1" in res.stderr and words in res.stderr, res.stderr
        assert "rolled back the manifests of kube-apiserver" in res.stderr
        assert "kube-apiserver healthy again with the previous manifest" in res.stderr
        assert manifest.read_text() == original
        node.wait_for_apiserver(timeout=180)
        stored = node.kubectl("-n", "kube-system", "get", "cm", "kubeadm-config", "-o", "yaml").stdout
        assert next(iter(args)) not in stored
    took_bad = took["unknown-flag"]
    assert took_bad < 60  # the bound (308 s before the watch); the other case is printed

    # refused before anything changes: an unknown flag; a flag file no volume of the container holds
    typo = write_change(node, "typo", {"no-such-flag": "1"})
    res = kubeadm_py(node, "upgrade", "apply", "v1.20.2", "--config", typo, "-y")
    assert res.returncode == 1 and "kube-apiserver v1.20 has no flag --no-such-flag" in res.stderr, res.stderr
    assert "rolled back" not in res.stderr and manifest.read_text() == original
    bad = write_change(node, "missing", {"audit-policy-file": "/nonexistent"})
    res = kubeadm_py(node, "upgrade", "apply", "v1.20.2", "--config", bad, "-y")
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]
    assert "--audit-policy-file=/nonexistent: no volume of the kube-apiserver container" in res.stderr
    assert "rolled back" not in res.stderr and manifest.read_text() == original

    # 2. good: new flag and SAN
    good = write_change(node, "good", {"event-ttl": "2h0m0s"}, ["upgrade.example.test"])
    before_hash = mirror_hash(node)
    t0 = time.monotonic()
    res = kubeadm_py(node, "upgrade", "apply", "v1.20.2", "--config", good, "-y", "--upgrade-timeout", "180s")
    took_good = time.monotonic() - t0
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-3000:]
    assert "Component 'kube-apiserver' upgraded successfully!" in res.stdout
    assert "--event-ttl=2h0m0s" in manifest.read_text()
    assert mirror_hash(node) not in ("", before_hash)
    pod = node.kubectl("-n", "kube-system", "get", "pod", f"kube-apiserver-{node.name}", "-o", "yaml").stdout
    assert "--event-ttl=2h0m0s" in pod
    cert = node.sh(
        f"echo | openssl s_client -connect {node.address}:6443 2>/dev/null "
        "| openssl x509 -noout -ext subjectAltName"
    ).stdout
    assert "DNS:upgrade.example.test" in cert, cert
    stored_cfg = yaml.safe_load(
        node.kubectl(
            "-n", "kube-system", "get", "cm", "kubeadm-config", "-o", "jsonpath={.data.ClusterConfiguration}"
        ).stdout
    )
    assert stored_cfg["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert {"name": "event-ttl", "value": "2h0m0s"} in stored_cfg["apiServer"]["extraArgs"]
    assert stored_cfg["apiServer"]["certSANs"] == ["upgrade.example.test"]
    backups = sorted(Path(node.path("/etc/kubernetes/tmp")).glob("kubeadm-backup-manifests-*"))
    # one backup per swap that ran: the two broken changes (rolled back) and the good one
    assert len(backups) == 3 and (backups[0] / "kube-apiserver.yaml").read_text() == original
    node.wait_for_apiserver(timeout=120)
    assert re.search(r"kube-apiserver", node.ctr("containers", "ls").stdout)
    print(f"\n[upgrade-testbed] broken upgrade + rollback {took_bad:.1f}s, config change {took_good:.1f}s")
