"""Static Pod manifests for every minor of the version table, against upstream expectations
(fixtures/upstream_flags.yaml cites the upstream sources)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubeadm_py.errors import ConfigError, KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.manifests.controlplane import build_control_plane
from kubeadm_py.manifests.etcd import build_etcd
from kubeadm_py.manifests.pod import from_yaml, to_yaml
from kubeadm_py.versions import RELEASES

from .helpers import flags, make_cfg

FIXTURES = yaml.safe_load((Path(__file__).parent / "fixtures" / "upstream_flags.yaml").read_text())
VERSIONS = [r.default_patch for r in RELEASES]
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


def expected_command(version: str, component: str) -> list[str]:
    minor = int(version.split(".")[1])
    gen = "1.20" if minor == 20 else ("etcd36" if minor >= 34 else "modern")
    return [component, *sorted(FIXTURES["common"][component] + FIXTURES[gen][component])]


def pods(version: str, tmp_path: Path, **kw):
    cfg = make_cfg(version, **kw)
    fs = HostFS(rootfs=tmp_path)
    res = build_control_plane(cfg, fs, environ={})
    res.pods.update(build_etcd(cfg).pods)
    return res


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("component", [*COMPONENTS, "etcd"])
def test_default_commands_match_upstream(version, component, tmp_path):
    pod = pods(version, tmp_path).pods[component]
    assert pod["spec"]["containers"][0]["command"] == expected_command(version, component)


@pytest.mark.parametrize("version", VERSIONS)
def test_pod_shape(version, tmp_path):
    modern = not version.startswith("v1.20")
    for name, pod in pods(version, tmp_path).pods.items():
        spec = pod["spec"]
        assert pod["metadata"]["labels"] == {"component": name, "tier": "control-plane"}
        assert pod["metadata"]["namespace"] == "kube-system"
        assert spec["hostNetwork"] is True
        assert spec["priorityClassName"] == "system-node-critical"
        assert ("priority" in spec) is modern and spec.get("priority", 2000001000) == 2000001000
        assert (spec.get("securityContext") == {"seccompProfile": {"type": "RuntimeDefault"}}) is modern
        c = spec["containers"][0]
        assert c["imagePullPolicy"] == "IfNotPresent"
        assert "dnsPolicy" not in spec  # upstream leaves it to the API default (ClusterFirst)


@pytest.mark.parametrize("version", VERSIONS)
def test_images_resources_annotations(version, tmp_path):
    res = pods(version, tmp_path).pods
    rel = next(r for r in RELEASES if r.default_patch == version)
    for comp, cpu in (
        ("kube-apiserver", "250m"),
        ("kube-controller-manager", "200m"),
        ("kube-scheduler", "100m"),
    ):  # noqa: E501
        c = res[comp]["spec"]["containers"][0]
        assert c["image"] == f"registry.k8s.io/{comp}:{version}"
        assert c["resources"] == {"requests": {"cpu": cpu}}
    etcd = res["etcd"]["spec"]["containers"][0]
    assert etcd["image"] == f"registry.k8s.io/etcd:{rel.etcd}"
    want = {"cpu": "100m", "memory": "100Mi"}
    if version.startswith("v1.20"):
        want["ephemeral-storage"] = "100Mi"  # 1.20 local.go also requested ephemeral storage
    assert etcd["resources"] == {"requests": want}
    assert res["kube-apiserver"]["metadata"]["annotations"] == {
        "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": "10.0.0.5:6443"
    }
    assert res["etcd"]["metadata"]["annotations"] == {
        "kubeadm.kubernetes.io/etcd.advertise-client-urls": "https://10.0.0.5:2379"
    }


# Upstream's probes per minor, written out (not read from kubeadm_py.versioned): (liveness,
# readiness or None, startup) paths. kube-scheduler: /healthz until PR #126945 (v1.32: /livez,
# /readyz). etcd: /health in the v1.20.2 tree (phases/etcd/local.go); PR #110744's serializable
# /health queries (v1.25 .. v1.30, as kubernetes/kubeadm#3039 lists them); /livez, /readyz from
# v1.31 (PR #124465). Ports: numbers, the named port "probe-port" from v1.34 (PR #132776).
_ETCD_HEALTH_SERIALIZABLE = ("/health?exclude=NOSPACE&serializable=true", None, "/health?serializable=false")


def upstream_probe_paths(minor: int, component: str) -> tuple[str, str | None, str]:
    if component == "kube-apiserver":
        return ("/livez", "/readyz", "/livez")
    if component == "kube-controller-manager":
        return ("/healthz", None, "/healthz")
    if component == "kube-scheduler":
        return ("/livez", "/readyz", "/livez") if minor >= 32 else ("/healthz", None, "/healthz")
    if minor == 20:
        return ("/health", None, "/health")
    return ("/livez", "/readyz", "/readyz") if minor >= 31 else _ETCD_HEALTH_SERIALIZABLE


@pytest.mark.parametrize("version", VERSIONS)
def test_probes(version, tmp_path):
    minor = int(version.split(".")[1])
    res = pods(version, tmp_path, init={"timeouts": {"controlPlaneComponentHealthCheck": "2m30s"}}).pods
    ports = {"kube-apiserver": 6443, "kube-controller-manager": 10257, "kube-scheduler": 10259, "etcd": 2381}
    hosts = {"kube-apiserver": "10.0.0.5"}
    for comp, port in ports.items():
        c = res[comp]["spec"]["containers"][0]
        target = "probe-port" if minor >= 34 else port
        if minor >= 34:
            assert c["ports"] == [{"containerPort": port, "name": "probe-port", "protocol": "TCP"}]
        else:
            assert "ports" not in c
        scheme = "HTTP" if comp == "etcd" else "HTTPS"
        get = {"host": hosts.get(comp, "127.0.0.1"), "port": target, "scheme": scheme}
        live, ready, startup = upstream_probe_paths(minor, comp)
        assert c["livenessProbe"] == {
            "failureThreshold": 8,
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "timeoutSeconds": 15,
            "httpGet": {**get, "path": live},
        }
        assert c["startupProbe"]["httpGet"] == {**get, "path": startup}
        assert c["startupProbe"]["failureThreshold"] == 15  # ceil(150s / 10s)
        if ready is None:
            assert "readinessProbe" not in c
        else:
            assert c["readinessProbe"]["httpGet"] == {**get, "path": ready}
            assert (c["readinessProbe"]["periodSeconds"], c["readinessProbe"]["failureThreshold"]) == (1, 3)
            assert "initialDelaySeconds" not in c["readinessProbe"]  # 0 is omitted (omitempty)


@pytest.mark.parametrize("version", VERSIONS)
def test_default_volumes(version, tmp_path):
    res = pods(version, tmp_path).pods

    def vols(comp):
        return {
            v["name"]: (v["hostPath"]["path"], v["hostPath"].get("type"))
            for v in res[comp]["spec"]["volumes"]
        }  # noqa: E501

    def mounts(comp):
        return {
            m["name"]: (m["mountPath"], m.get("readOnly", False))
            for m in res[comp]["spec"]["containers"][0]["volumeMounts"]
        }

    assert vols("kube-apiserver") == {
        "ca-certs": ("/etc/ssl/certs", "DirectoryOrCreate"),
        "k8s-certs": ("/etc/kubernetes/pki", "DirectoryOrCreate"),
    }
    kcm_vols = {
        "ca-certs": ("/etc/ssl/certs", "DirectoryOrCreate"),
        "k8s-certs": ("/etc/kubernetes/pki", "DirectoryOrCreate"),
        "kubeconfig": ("/etc/kubernetes/controller-manager.conf", "FileOrCreate"),
    }
    # kubeadm v1.36 removed the flexvolume-dir mount (CHANGELOG-1.36.md, v1.36.0, #136423).
    if int(version.split(".")[1]) < 36:
        flex = "/usr/libexec/kubernetes/kubelet-plugins/volume/exec"
        kcm_vols["flexvolume-dir"] = (flex, "DirectoryOrCreate")
        assert mounts("kube-controller-manager")["flexvolume-dir"][1] is False
    assert vols("kube-controller-manager") == kcm_vols
    assert mounts("kube-controller-manager")["kubeconfig"] == (
        "/etc/kubernetes/controller-manager.conf",
        True,
    )  # noqa: E501
    assert vols("kube-scheduler") == {"kubeconfig": ("/etc/kubernetes/scheduler.conf", "FileOrCreate")}
    assert vols("etcd") == {
        "etcd-certs": ("/etc/kubernetes/pki/etcd", "DirectoryOrCreate"),
        "etcd-data": ("/var/lib/etcd", "DirectoryOrCreate"),
    }
    assert mounts("etcd") == {
        "etcd-certs": ("/etc/kubernetes/pki/etcd", False),
        "etcd-data": ("/var/lib/etcd", False),
    }  # noqa: E501
    # volumes sorted by name (VolumeMapToSlice)
    for p in res.values():
        names = [v["name"] for v in p["spec"]["volumes"]]
        assert names == sorted(names)


def test_ca_trust_volumes_only_when_present_on_host(tmp_path):
    (tmp_path / "etc/ca-certificates").mkdir(parents=True)
    (tmp_path / "usr/share/ca-certificates").mkdir(parents=True)
    res = pods("v1.32.10", tmp_path).pods
    for comp in ("kube-apiserver", "kube-controller-manager"):
        names = [v["name"] for v in res[comp]["spec"]["volumes"]]
        assert "etc-ca-certificates" in names and "usr-share-ca-certificates" in names
        assert "usr-local-share-ca-certificates" not in names and "etc-pki-ca-trust" not in names
    assert [v["name"] for v in res["kube-scheduler"]["spec"]["volumes"]] == ["kubeconfig"]


@pytest.mark.parametrize("version", VERSIONS)
def test_etc_pki_mounted_whole_before_v1_31(version, tmp_path):
    """PR #124361 (v1.31) replaced the whole-/etc/pki mount ("etc-pki", v1.20.2 tree
    phases/controlplane/volumes.go) by /etc/pki/ca-trust and /etc/pki/tls/certs."""
    for d in ("etc/pki/ca-trust", "etc/pki/tls/certs", "etc/pki/private"):
        (tmp_path / d).mkdir(parents=True)
    res = pods(version, tmp_path).pods
    minor = int(version.split(".")[1])
    want = (
        {"etc-pki": "/etc/pki"}
        if minor < 31
        else {
            "etc-pki-ca-trust": "/etc/pki/ca-trust",
            "etc-pki-tls-certs": "/etc/pki/tls/certs",
        }
    )
    for comp in ("kube-apiserver", "kube-controller-manager"):
        got = {
            v["name"]: v["hostPath"]["path"]
            for v in res[comp]["spec"]["volumes"]
            if v["hostPath"]["path"].startswith("/etc/pki")
        }
        assert got == want
        mounts = {
            m["name"]: (m["mountPath"], m.get("readOnly"))
            for m in res[comp]["spec"]["containers"][0]["volumeMounts"]
        }
        assert all(mounts[n] == (p, True) for n, p in want.items())


@pytest.mark.parametrize("version", VERSIONS)
def test_creation_timestamp_printed_before_v1_34(version, tmp_path):
    """CHANGELOG-1.34.md v1.34.0-alpha.1 (#130989): zero creationTimestamp values are omitted."""
    minor = int(version.split(".")[1])
    for pod in pods(version, tmp_path).pods.values():
        lines = to_yaml(pod).splitlines()
        assert ("  creationTimestamp: null" in lines) is (minor < 34)
        assert lines[-1] == "status: {}"


def test_pod_subnet_and_cluster_name(tmp_path):
    res = pods(
        "v1.32.10", tmp_path, cluster={"networking": {"podSubnet": "10.244.0.0/16"}, "clusterName": "prod"}
    )  # noqa: E501
    f = flags(res.pods["kube-controller-manager"])
    assert f["allocate-node-cidrs"] == ["true"]
    assert f["cluster-cidr"] == ["10.244.0.0/16"]
    assert f["service-cluster-ip-range"] == ["10.96.0.0/12"]
    assert f["cluster-name"] == ["prod"]


def test_extra_args_override_and_repeat(tmp_path):
    res = pods(
        "v1.32.10",
        tmp_path,
        cluster={
            "apiServer": {
                "extraArgs": [
                    {"name": "enable-admission-plugins", "value": "NodeRestriction,PodSecurity"},
                    {"name": "tls-cipher-suites", "value": "b"},
                    {"name": "tls-cipher-suites", "value": "a"},
                    {"name": "audit-log-maxage", "value": "30"},
                ]
            }
        },
    )
    cmd = res.pods["kube-apiserver"]["spec"]["containers"][0]["command"]
    assert "--enable-admission-plugins=NodeRestriction,PodSecurity" in cmd
    assert "--enable-admission-plugins=NodeRestriction" not in cmd
    # repeated names kept; sorted by name then value
    i = cmd.index("--tls-cipher-suites=a")
    assert cmd[i + 1] == "--tls-cipher-suites=b"
    assert cmd[1:] == sorted(cmd[1:], key=lambda w: w[2:].partition("=")[::2])
    assert res.warnings == []


def test_unknown_extra_arg_is_a_warning(tmp_path):
    res = pods(
        "v1.32.10",
        tmp_path,
        cluster={"scheduler": {"extraArgs": [{"name": "bind-adress", "value": "0.0.0.0"}]}},
    )  # noqa: E501
    assert "--bind-adress=0.0.0.0" in res.pods["kube-scheduler"]["spec"]["containers"][0]["command"]
    assert len(res.warnings) == 1 and "bind-adress" in res.warnings[0] and "kube-scheduler" in res.warnings[0]


def test_bind_address_extra_arg_moves_probe_host(tmp_path):
    res = pods(
        "v1.32.10",
        tmp_path,
        cluster={
            "controllerManager": {"extraArgs": [{"name": "bind-address", "value": "0.0.0.0"}]},
            "scheduler": {"extraArgs": [{"name": "bind-address", "value": "10.0.0.5"}]},
        },
    )
    kcm = res.pods["kube-controller-manager"]["spec"]["containers"][0]
    assert "host" not in kcm["livenessProbe"]["httpGet"]  # 0.0.0.0 -> Pod IP (empty host)
    assert (
        res.pods["kube-scheduler"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["host"] == "10.0.0.5"
    )  # noqa: E501


def test_authorization_modes(tmp_path):
    res = pods(
        "v1.32.10",
        tmp_path,
        cluster={
            "apiServer": {"extraArgs": [{"name": "authorization-mode", "value": "Node,Bogus,RBAC,Webhook"}]}
        },
    )
    assert flags(res.pods["kube-apiserver"])["authorization-mode"] == ["Node,RBAC,Webhook"]
    assert any("Bogus" in w for w in res.warnings)
    res = pods(
        "v1.32.10",
        tmp_path,
        cluster={
            "apiServer": {
                "extraArgs": [{"name": "authorization-config", "value": "/etc/kubernetes/authz.yaml"}]
            }
        },
    )
    assert "authorization-mode" not in flags(res.pods["kube-apiserver"])


def test_extra_volumes(tmp_path):
    res = pods(
        "v1.32.10",
        tmp_path,
        cluster={
            "apiServer": {
                "extraVolumes": [
                    {
                        "name": "audit",
                        "hostPath": "/var/log/kubernetes",
                        "mountPath": "/var/log/kubernetes",
                        "readOnly": False,
                        "pathType": "DirectoryOrCreate",
                    },
                    {
                        "name": "ca-certs",
                        "hostPath": "/etc/pki/tls/certs",
                        "mountPath": "/etc/ssl/certs",
                        "readOnly": True,
                    },  # noqa: E501
                ]
            }
        },
    )
    spec = res.pods["kube-apiserver"]["spec"]
    vols = {v["name"]: v["hostPath"] for v in spec["volumes"]}
    assert vols["audit"] == {"path": "/var/log/kubernetes", "type": "DirectoryOrCreate"}
    assert vols["ca-certs"] == {
        "path": "/etc/pki/tls/certs",
        "type": "",
    }  # replaced by name; upstream writes type: ""  # noqa: E501
    mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["audit"] == {"mountPath": "/var/log/kubernetes", "name": "audit"}


def test_extra_volume_relative_path_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"hostPath 'logs'.*absolute") as e:
        pods(
            "v1.32.10",
            tmp_path,
            cluster={
                "controllerManager": {
                    "extraVolumes": [{"name": "x", "hostPath": "logs", "mountPath": "/logs"}]
                }
            },
        )
    assert "controllerManager.extraVolumes[0].hostPath" in str(e.value)


def test_extra_envs_and_proxy(tmp_path):
    cfg = make_cfg(
        "v1.32.10",
        cluster={
            "apiServer": {
                "extraEnvs": [
                    {"name": "GODEBUG", "value": "x509sha1=1"},
                    {"name": "HTTPS_PROXY", "value": "p2"},
                ]
            },  # noqa: E501
            "etcd": {"local": {"extraEnvs": [{"name": "ETCD_X", "value": "1"}]}},
        },
    )
    res = build_control_plane(
        cfg,
        HostFS(rootfs=tmp_path),
        environ={
            "HTTPS_PROXY": "p1",
            "no_proxy": "10.0.0.0/8",  # noqa: E501
            "HOME": "/root",
            "ftp_proxy": "",
        },
    )
    env = res.pods["kube-apiserver"]["spec"]["containers"][0]["env"]
    assert env == [
        {"name": "GODEBUG", "value": "x509sha1=1"},
        {"name": "HTTPS_PROXY", "value": "p2"},
        {"name": "no_proxy", "value": "10.0.0.0/8"},
    ]
    assert res.pods["kube-scheduler"]["spec"]["containers"][0]["env"] == [
        {"name": "HTTPS_PROXY", "value": "p1"},
        {"name": "no_proxy", "value": "10.0.0.0/8"},
    ]
    assert build_etcd(cfg).pods["etcd"]["spec"]["containers"][0]["env"] == [{"name": "ETCD_X", "value": "1"}]


def test_no_env_key_without_variables(tmp_path):
    res = pods("v1.32.10", tmp_path)
    assert "env" not in res.pods["kube-apiserver"]["spec"]["containers"][0]
    assert "env" not in res.pods["etcd"]["spec"]["containers"][0]


def test_external_etcd(tmp_path):
    cfg = make_cfg(
        "v1.32.10",
        cluster={
            "etcd": {
                "external": {
                    "endpoints": ["https://10.1.0.1:2379", "https://10.1.0.2:2379"],
                    "caFile": "/etc/etcd/pki/ca.crt",
                    "certFile": "/etc/etcd/pki/client.crt",
                    "keyFile": "/etc/kubernetes/pki/etcd-client.key",
                }
            }
        },
    )
    del cfg.cluster["etcd"]["local"]
    res = build_control_plane(cfg, HostFS(rootfs=tmp_path), environ={})
    f = flags(res.pods["kube-apiserver"])
    assert f["etcd-servers"] == ["https://10.1.0.1:2379,https://10.1.0.2:2379"]
    assert f["etcd-cafile"] == ["/etc/etcd/pki/ca.crt"]
    assert f["etcd-certfile"] == ["/etc/etcd/pki/client.crt"]
    assert f["etcd-keyfile"] == ["/etc/kubernetes/pki/etcd-client.key"]
    vols = {v["name"]: v["hostPath"]["path"] for v in res.pods["kube-apiserver"]["spec"]["volumes"]}
    assert vols["etcd-certs-0"] == "/etc/etcd/pki"  # key dir is inside certificatesDir: not mounted twice
    assert "etcd-certs-1" not in vols
    with pytest.raises(KubeadmError, match="external etcd"):
        build_etcd(cfg)


def test_local_etcd_advertise_client_urls_feeds_apiserver(tmp_path):
    res = pods(
        "v1.32.10",
        tmp_path,
        cluster={
            "etcd": {
                "local": {
                    "extraArgs": [
                        {"name": "advertise-client-urls", "value": "https://10.0.0.5:2379"},
                        {"name": "listen-metrics-urls", "value": "https://0.0.0.0:2382"},
                    ]
                }
            }
        },
    )
    assert flags(res.pods["kube-apiserver"])["etcd-servers"] == ["https://10.0.0.5:2379"]
    probe = res.pods["etcd"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]
    assert (probe["host"], probe["port"], probe["scheme"]) == ("0.0.0.0", 2382, "HTTPS")


def test_ipv6_advertise_address(tmp_path):
    res = pods("v1.32.10", tmp_path, init={"localAPIEndpoint": {"advertiseAddress": "fd00::5"}})
    assert flags(res.pods["kube-apiserver"])["etcd-servers"] == ["https://[::1]:2379"]
    assert (
        res.pods["kube-apiserver"]["metadata"]["annotations"][
            "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"
        ]
        == "[fd00::5]:6443"
    )
    f = flags(res.pods["etcd"])
    assert f["listen-client-urls"] == ["https://[::1]:2379,https://[fd00::5]:2379"]
    assert f["listen-metrics-urls"] == ["http://[::1]:2381"]


def test_feature_gate_forwarded_only_for_1_20(tmp_path):
    old = pods("v1.20.2", tmp_path, cluster={"featureGates": {"IPv6DualStack": True}})
    for comp in COMPONENTS:
        assert flags(old.pods[comp])["feature-gates"] == ["IPv6DualStack=true"]
    new = pods("v1.32.10", tmp_path, cluster={"featureGates": {"IPv6DualStack": True}})
    assert all("feature-gates" not in flags(new.pods[c]) for c in COMPONENTS)


def test_external_ca_empties_signing_flags(tmp_path):
    (tmp_path / "etc/kubernetes/pki").mkdir(parents=True)
    (tmp_path / "etc/kubernetes/pki/ca.crt").write_text("x")
    f = flags(pods("v1.32.10", tmp_path).pods["kube-controller-manager"])
    assert f["cluster-signing-cert-file"] == [""] and f["cluster-signing-key-file"] == [""]


def test_image_repository_and_etcd_overrides(tmp_path):
    res = pods(
        "v1.20",
        tmp_path,
        cluster={
            "imageRepository": "k8s.gcr.io",
            "etcd": {"local": {"imageRepository": "quay.io/coreos", "imageTag": "v3.4.14"}},
        },
    )  # noqa: E501
    assert res.pods["kube-apiserver"]["spec"]["containers"][0]["image"] == "k8s.gcr.io/kube-apiserver:v1.20.2"
    assert res.pods["etcd"]["spec"]["containers"][0]["image"] == "quay.io/coreos/etcd:v3.4.14"


@pytest.mark.parametrize("version", ["v1.19.16", "v1.29.0", "v1.38.0", "v2.0.0"])
def test_unsupported_version(version, tmp_path):
    with pytest.raises(KubeadmError, match=r"not supported.*supported minors: 1\.20, 1\.30, .*1\.33, 1\.34"):
        pods(version, tmp_path)


def test_invalid_version(tmp_path):
    with pytest.raises(KubeadmError, match="invalid Kubernetes version"):
        pods("latest-ish", tmp_path)


def test_yaml_round_trip_and_style(tmp_path):
    pod = pods("v1.32.10", tmp_path).pods["kube-apiserver"]
    text = to_yaml(pod)
    assert from_yaml(text, "x") == pod
    lines = text.splitlines()
    assert lines[:4] == ["apiVersion: v1", "kind: Pod", "metadata:", "  annotations:"]
    assert "  creationTimestamp: null" in lines and lines[-1] == "status: {}"
    assert "  - command:" in lines and "    - kube-apiserver" in lines  # Go yaml list indentation


def test_pause_and_coredns_images():
    from kubeadm_py.manifests.images import coredns_image, pause_image

    assert (
        pause_image(make_cfg("v1.20.2", cluster={"imageRepository": "k8s.gcr.io"})) == "k8s.gcr.io/pause:3.2"
    )  # noqa: E501
    assert (
        coredns_image(make_cfg("v1.20.2", cluster={"imageRepository": "k8s.gcr.io"}))
        == "k8s.gcr.io/coredns:1.7.0"
    )  # noqa: E501
    assert coredns_image(make_cfg("v1.32.10")) == "registry.k8s.io/coredns/coredns:v1.11.3"
    assert coredns_image(make_cfg("v1.32.10", cluster={"imageRepository": "mirror.local/k8s"})) == (
        "mirror.local/k8s/coredns:v1.11.3"
    )
    assert pause_image(make_cfg("v1.31")) == "registry.k8s.io/pause:3.10"


def test_version_table_default_is_newest():
    from kubeadm_py.versions import DEFAULT_KUBERNETES_VERSION, normalize_version, release_for

    # newest minor, newest patch with evidence (v1.37.1); see kubeadm_py/versions.py
    assert DEFAULT_KUBERNETES_VERSION == "v1.37.1" == RELEASES[-1].default_patch
    assert [r.minor for r in RELEASES] == sorted(
        (r.minor for r in RELEASES), key=lambda m: int(m.split(".")[1])
    )  # noqa: E501
    assert normalize_version("1.30") == "v1.30.14" and normalize_version("v1.20.1") == "v1.20.1"
    assert normalize_version("") == DEFAULT_KUBERNETES_VERSION
    assert release_for("ci/v1.31.3-alpha.0").minor == "1.31"
