"""cluster/kubeconfigs: the current cluster and kubelet-finalize's user rewrite, with their errors."""

from __future__ import annotations

import pytest
import yaml

from kubeadm_py.cluster.kubeconfigs import cluster_info_kubeconfig, current_cluster, point_user_at_pem
from kubeadm_py.errors import KubeadmError

PEM = "/var/lib/kubelet/pki/kubelet-client-current.pem"


def _conf(current: str = "ctx", user: str = "u", users: tuple[str, ...] = ("u",)) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": current,
            "clusters": [{"name": "k", "cluster": {"server": "https://10.0.0.1:6443"}}],
            "contexts": [{"name": "ctx", "context": {"cluster": "k", "user": user}}],
            "users": [{"name": n, "user": {"client-certificate-data": "Zm9v"}} for n in users],
        }
    )


def test_current_cluster_and_cluster_info() -> None:
    assert current_cluster(yaml.safe_load(_conf()), "admin.conf") == {"server": "https://10.0.0.1:6443"}
    info = yaml.safe_load(cluster_info_kubeconfig(_conf(), preferences=True))
    assert info["clusters"] == [{"cluster": {"server": "https://10.0.0.1:6443"}, "name": ""}]
    with pytest.raises(KubeadmError, match=r"^admin.conf: current context 'nope' not found$"):
        current_cluster(yaml.safe_load(_conf(current="nope")), "admin.conf")


def test_point_user_at_pem_rewrites_the_current_user() -> None:
    doc = yaml.safe_load(point_user_at_pem(_conf(), PEM, "kubelet.conf", preferences=True))
    assert doc["users"] == [{"name": "u", "user": {"client-certificate": PEM, "client-key": PEM}}]


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        (_conf(current=""), "the file 'kubelet.conf' does not have current context set"),
        (
            _conf(current="nope"),
            "the file 'kubelet.conf' is not a valid kubeconfig: 'nope' set as current-context, "
            "but not found in context list",
        ),
        (_conf(user=""), "the current context 'ctx' in 'kubelet.conf' does not have a user set"),
        (
            _conf(users=("other",)),
            "user 'u' is set in the current context 'ctx' in 'kubelet.conf', but is missing in the user list",
        ),
    ],
)
def test_point_user_at_pem_errors(conf: str, message: str) -> None:
    with pytest.raises(KubeadmError) as e:
        point_user_at_pem(conf, PEM, "kubelet.conf", preferences=True)
    assert str(e.value) == message


@pytest.mark.parametrize("preferences", [True, False])
def test_cluster_info_text_as_clientcmd_writes_it(preferences: bool) -> None:
    """client-go's clientcmd.Write through sigs.k8s.io/yaml: go-yaml quotes empty strings with
    double quotes; ``preferences: {}`` until v1.34 (#131741, client-go stops writing it)."""
    text = cluster_info_kubeconfig(_conf(), preferences=preferences)
    want = [
        "apiVersion: v1",
        "clusters:",
        "- cluster:",
        "    server: https://10.0.0.1:6443",
        '  name: ""',
        "contexts: null",
        'current-context: ""',
        "kind: Config",
        *(["preferences: {}"] if preferences else []),
        "users: null",
    ]
    assert text.splitlines() == want
