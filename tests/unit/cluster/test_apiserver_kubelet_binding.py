"""kubeadm v1.37 binds the apiserver's kubelet client to ``system:kubelet-api-admin`` in the
bootstrap-token phase of init and of ``upgrade apply`` (CHANGELOG-1.37.md v1.37.0-alpha.1, #138957:
"Kubeadm: use a dedicated ClusterRole 'system:kubelet-api-admin' for the kube-apiserver kubelet
client"; object names from kubeadm's constants KubeletAPIAdminClusterRoleBindingName,
KubeletAPIAdminClusterRoleName, APIServerKubeletClientCertCommonName)."""

from __future__ import annotations

import pytest

from kubeadm_py.cluster.bootstraptoken import node_rbac
from kubeadm_py.phases.init.bootstrap_token import run_bootstrap_token
from kubeadm_py.phases.upgrade.cluster import run_bootstrap_token as run_upgrade_bootstrap_token
from tests.unit.cluster.conftest import Env

BINDING = "kubeadm:apiserver-kubelet-client"


def test_init_bootstrap_token_binds_the_apiserver_kubelet_client_from_1_37(env: Env) -> None:
    env.cfg.cluster["kubernetesVersion"] = "v1.37.1"
    run_bootstrap_token(env.ctx())
    crb = env.api.obj("ClusterRoleBinding", BINDING)
    assert crb["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "system:kubelet-api-admin",
    }
    assert [(s["kind"], s["name"]) for s in crb["subjects"]] == [("User", "kube-apiserver-kubelet-client")]
    # no made-up progress line for this step
    assert not any(BINDING in line or "kubelet API" in line for line in env.logs)


@pytest.mark.parametrize("version", ["v1.20.2", "v1.32.10", "v1.36.0"])
def test_older_minors_do_not_create_the_binding(env: Env, version: str) -> None:
    env.cfg.cluster["kubernetesVersion"] = version
    run_bootstrap_token(env.ctx())
    assert env.api.obj("ClusterRoleBinding", BINDING) is None
    assert env.api.obj("ClusterRoleBinding", "kubeadm:kubelet-bootstrap") is not None


def test_upgrade_to_1_37_creates_the_binding(env: Env) -> None:
    env.cfg.cluster["kubernetesVersion"] = "v1.37.1"  # upgrade config carries the target version
    run_upgrade_bootstrap_token(env.ctx())
    assert env.api.obj("ClusterRoleBinding", BINDING) is not None


def test_node_rbac_keeps_upstream_order_and_messages() -> None:
    old = node_rbac("v1.36.0")
    new = node_rbac("v1.37.1")
    assert new[: len(old)] == old and len(new) == len(old) + 1
    assert all(msg for msg, _ in old)
