"""--patches: file naming, order, the three patch types, strategic-merge directives, errors."""

from __future__ import annotations

import pytest

from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.manifests.controlplane import build_control_plane
from kubeadm_py.patches import load_patches, parse_filename, strategic_merge

from .helpers import make_cfg


def apiserver(tmp_path):
    return build_control_plane(make_cfg(), HostFS(rootfs=tmp_path), ("kube-apiserver",), environ={}).pods[
        "kube-apiserver"
    ]


@pytest.mark.parametrize(
    "name,expected",
    [
        ("kube-apiserver.yaml", ("kube-apiserver", "strategic", None)),
        ("kube-apiserver0+merge.yaml", ("kube-apiserver", "merge", None)),
        ("etcd-extra+json.json", ("etcd", "json", None)),
        ("kubeletconfiguration+strategic.json", ("kubeletconfiguration", "strategic", None)),
        ("corednsdeployment.yaml", ("corednsdeployment", "strategic", None)),
    ],
)
def test_parse_filename(name, expected):
    assert parse_filename(name) == expected


def test_ignored_and_bad_filenames():
    assert parse_filename("kube-apiserver.txt")[0] is None
    assert parse_filename("kube-proxy.yaml")[0] is None
    with pytest.raises(KubeadmError, match=r"unknown or missing patch type after '\+'"):
        parse_filename("etcd+foo.yaml")


def test_strategic_patch_merges_by_key(tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    (d / "kube-apiserver.yaml").write_text(
        "spec:\n"
        "  containers:\n"
        "  - name: kube-apiserver\n"
        "    resources:\n"
        "      requests:\n"
        "        cpu: 500m\n"
        "    volumeMounts:\n"
        "    - mountPath: /etc/ssl/certs\n"
        "      $patch: delete\n"
        "    - mountPath: /var/log/audit\n"
        "      name: audit\n"
        "  volumes:\n"
        "  - name: audit\n"
        "    hostPath: {path: /var/log/audit, type: DirectoryOrCreate}\n"
        "  - name: ca-certs\n"
        "    $patch: delete\n"
        "metadata:\n"
        "  labels:\n"
        "    tier: null\n"
        "    team: infra\n"
    )
    ps = load_patches(d)
    pod = ps.apply("kube-apiserver", apiserver(tmp_path))
    c = pod["spec"]["containers"][0]
    assert c["resources"] == {"requests": {"cpu": "500m"}}
    assert c["command"][0] == "kube-apiserver"  # untouched fields kept
    assert [m["name"] for m in c["volumeMounts"]] == ["k8s-certs", "audit"]
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["k8s-certs", "audit"]
    assert pod["metadata"]["labels"] == {"component": "kube-apiserver", "team": "infra"}


def test_merge_and_json_patches_in_lexical_order(tmp_path):
    d = tmp_path / "p"
    (d / "sub").mkdir(parents=True)
    (d / "kube-apiserver1+json.yaml").write_text(
        "- op: add\n  path: /spec/containers/0/command/-\n  value: --v=4\n"
        "---\n"
        "- op: replace\n  path: /spec/dnsPolicy\n  value: ClusterFirstWithHostNet\n"
    )
    (d / "kube-apiserver0+merge.json").write_text('{"spec": {"dnsPolicy": "Default", "hostNetwork": true}}')
    (d / "sub" / "kube-apiserver2.yaml").write_text("spec:\n  priority: 7\n")  # Walk descends into sub-dirs
    (d / "README.md").write_text("ignored")
    (d / "kube-scheduler.yaml").write_text("")  # empty: ignored
    ps = load_patches(d)
    assert [f.path.split("/p/")[1] for f in ps.files] == [
        "kube-apiserver0+merge.json",
        "kube-apiserver1+json.yaml",
        "sub/kube-apiserver2.yaml",
    ]
    assert sorted(ps.ignored) == ["README.md", "kube-scheduler.yaml"]
    logs: list[str] = []
    pod = ps.apply("kube-apiserver", apiserver(tmp_path), logs.append)
    assert pod["spec"]["dnsPolicy"] == "ClusterFirstWithHostNet"  # json (1) applied after merge (0)
    assert pod["spec"]["containers"][0]["command"][-1] == "--v=4"
    assert pod["spec"]["priority"] == 7
    assert len(logs) == 4 and "application/json-patch+json" in logs[1]


def test_patch_that_does_not_apply_names_the_file(tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    (d / "etcd+json.yaml").write_text("- op: replace\n  path: /spec/nonexistent/0\n  value: 1\n")
    ps = load_patches(d)
    with pytest.raises(
        KubeadmError, match=r"could not apply the json patch .*etcd\+json\.yaml to target 'etcd'"
    ):  # noqa: E501
        ps.apply("etcd", {"spec": {}})


def test_bad_patch_documents(tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    (d / "etcd+json.yaml").write_text("op: add\n")
    with pytest.raises(KubeadmError, match="must be a list of operations"):
        load_patches(d).apply("etcd", {})
    (d / "etcd+json.yaml").unlink()
    (d / "etcd.yaml").write_text("spec: [unclosed\n")
    with pytest.raises(KubeadmError, match=r"etcd\.yaml: line 2, column 1: not valid YAML"):
        load_patches(d)
    with pytest.raises(KubeadmError, match="no such directory"):
        load_patches(tmp_path / "missing")


def test_strategic_directives():
    orig = {
        "spec": {
            "containers": [{"name": "a", "env": [{"name": "X", "value": "1"}], "args": ["1", "2"]}],
            "tolerations": [{"key": "t"}],
            "nodeSelector": {"a": "b", "c": "d"},
        }
    }
    # list without merge key: replaced; $patch: replace on a map; $retainKeys
    out = strategic_merge(
        orig,
        {
            "spec": {
                "tolerations": [{"key": "u"}],
                "nodeSelector": {"$patch": "replace", "z": "1"},
                "containers": [{"name": "a", "args": ["3"], "env": [{"name": "Y", "value": "2"}]}],
            }
        },
        {"containers": "name", "env": "name"},
    )
    assert out["spec"]["tolerations"] == [{"key": "u"}]
    assert out["spec"]["nodeSelector"] == {"z": "1"}
    assert out["spec"]["containers"][0]["args"] == ["3"]
    assert out["spec"]["containers"][0]["env"] == [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]
    # $patch: replace inside a merge-keyed list replaces the whole list
    out = strategic_merge(
        orig, {"spec": {"containers": [{"$patch": "replace"}, {"name": "b"}]}}, {"containers": "name"}
    )
    assert out["spec"]["containers"] == [{"name": "b"}]
    out = strategic_merge({"a": [1, 2, 3]}, {"$deleteFromPrimitiveList/a": [2]}, {})
    assert out == {"a": [1, 3]}
    out = strategic_merge({"a": 1, "b": 2, "c": 3}, {"$retainKeys": ["a", "c"], "c": 4}, {})
    assert out == {"a": 1, "c": 4}


def test_unknown_target_rejected():
    from kubeadm_py.patches import PatchSet

    with pytest.raises(KubeadmError, match="unknown patch target"):
        PatchSet("x").apply("kube-proxy", {})
