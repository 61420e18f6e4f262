"""The cluster-side phases against the in-memory API server: object shapes as upstream writes them
(expected values transcribed from the Go sources named in each test), idempotent reruns, version
differences (1.20 test bed vs current) and error paths."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kubeadm_py.errors import ApiError, KubeadmError
from kubeadm_py.kube.client import KubeClient
from kubeadm_py.phases.init.bootstrap_token import run_bootstrap_token
from kubeadm_py.phases.init.kubelet_finalize import run_cert_rotation
from kubeadm_py.phases.init.show_join_command import run_show_join_command
from kubeadm_py.phases.init.upload_certs import run_upload_certs
from kubeadm_py.phases.shared.addons import addon_phase, run_coredns, run_kube_proxy
from kubeadm_py.phases.shared.mark_control_plane import run_mark_control_plane
from kubeadm_py.phases.shared.upload_config import run_upload_kubeadm, run_upload_kubelet
from kubeadm_py.tokens.jws import compute_detached_signature
from tests.unit.cluster.conftest import TOKEN, Env

BOOTSTRAPPERS = "system:bootstrappers:kubeadm:default-node-token"
KEY = "a" * 64


def rerun_changes_nothing(env: Env, run, **opts) -> None:
    before = len(env.api.mutations())
    ctx = env.ctx(**opts)
    run(ctx)
    assert len(env.api.mutations()) == before, f"rerun wrote: {env.api.mutations()[before:]}"
    assert all(c.action == "unchanged" for c in ctx.kube().changes), [
        c for c in ctx.kube().changes if c.changed
    ]


def subjects(obj):
    return [(s["kind"], s["name"]) for s in obj["subjects"]]


# --- upload-config (phases/uploadconfig/uploadconfig.go, phases/kubelet/config.go) -------------------------
def test_upload_config_kubeadm(env: Env) -> None:
    run_upload_kubeadm(env.ctx())
    cm = env.api.obj("ConfigMap", "kubeadm-config", "kube-system")
    text = cm["data"]["ClusterConfiguration"]
    doc = yaml.safe_load(text)
    assert doc["apiVersion"] == "kubeadm.k8s.io/v1beta4" and doc["kind"] == "ClusterConfiguration"
    assert doc["networking"]["serviceSubnet"] == "10.96.0.0/12"
    assert list(cm["data"]) == ["ClusterConfiguration"], "no ClusterStatus key since v1.22"
    top_keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert top_keys == sorted(top_keys), "sigs.k8s.io/yaml sorts keys"
    role = env.api.obj("Role", "kubeadm:nodes-kubeadm-config", "kube-system")
    assert role["rules"] == [
        {
            "verbs": ["get"],
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["kubeadm-config"],
        }
    ]
    rb = env.api.obj("RoleBinding", "kubeadm:nodes-kubeadm-config", "kube-system")
    assert rb["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "kubeadm:nodes-kubeadm-config",
    }
    assert subjects(rb) == [("Group", BOOTSTRAPPERS), ("Group", "system:nodes")]
    rerun_changes_nothing(env, run_upload_kubeadm)


def test_upload_config_kubeadm_only_replaces_its_key(env: Env) -> None:
    env.api.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
            "data": {"ClusterConfiguration": "old", "Other": "kept"},
        }
    )
    run_upload_kubeadm(env.ctx())
    data = env.api.obj("ConfigMap", "kubeadm-config", "kube-system")["data"]
    assert data["Other"] == "kept" and data["ClusterConfiguration"] != "old"


def test_upload_config_kubelet_1_20(env: Env) -> None:
    env.add_node()
    run_upload_kubelet(env.ctx())
    cm = env.api.obj("ConfigMap", "kubelet-config-1.20", "kube-system")
    assert cm is not None, "1.20 used the versioned name kubelet-config-1.20"
    kubelet = yaml.safe_load(cm["data"]["kubelet"])
    assert kubelet["kind"] == "KubeletConfiguration" and kubelet["clusterDNS"] == ["10.96.0.10"]
    # ChecksumForConfigMap: sha256 over the data values in sorted key order
    expected = "sha256:" + hashlib.sha256(cm["data"]["kubelet"].encode()).hexdigest()
    assert cm["metadata"]["annotations"]["kubeadm.kubernetes.io/component-config.hash"] == expected
    rb = env.api.obj("RoleBinding", "kubeadm:kubelet-config-1.20", "kube-system")
    assert rb["roleRef"]["name"] == "kubeadm:kubelet-config-1.20"
    assert subjects(rb) == [("Group", "system:nodes"), ("Group", BOOTSTRAPPERS)]
    role = env.api.obj("Role", "kubeadm:kubelet-config-1.20", "kube-system")
    assert role["rules"][0]["resourceNames"] == ["kubelet-config-1.20"]
    node = env.api.obj("Node", "cp-1")
    assert node["metadata"]["annotations"]["kubeadm.alpha.kubernetes.io/cri-socket"] == (
        "unix:///var/run/containerd/containerd.sock"
    )
    rerun_changes_nothing(env, run_upload_kubelet)


def test_upload_config_kubelet_current_name_no_node_annotation(env: Env) -> None:
    env.cfg.cluster["kubernetesVersion"] = "v1.34.0"
    run_upload_kubelet(env.ctx())
    assert env.api.obj("ConfigMap", "kubelet-config", "kube-system") is not None
    assert env.api.obj("Role", "kubeadm:kubelet-config", "kube-system") is not None
    assert env.api.obj("Node", "cp-1") is None, "no Node access needed any more (NodeLocalCRISocket)"


def test_user_supplied_kubelet_config_is_not_signed(env: Env) -> None:
    env.cfg.kubelet = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "maxPods": 50,
    }
    env.cfg.cluster["kubernetesVersion"] = "v1.34.0"
    run_upload_kubelet(env.ctx())
    cm = env.api.obj("ConfigMap", "kubelet-config", "kube-system")
    assert "kubeadm.kubernetes.io/component-config.hash" not in (cm["metadata"].get("annotations") or {})
    assert yaml.safe_load(cm["data"]["kubelet"])["maxPods"] == 50


# --- upload-certs (phases/copycerts/copycerts.go, util/crypto) -------------------------------------------
def test_upload_certs_skipped_without_flag(env: Env) -> None:
    from kubeadm_py.phases.init.upload_certs import upload_certs_phase

    phase = upload_certs_phase()
    assert phase.run_if is not None and not phase.run_if(env.ctx())
    assert phase.skip_reason == "--upload-certs not given"
    assert phase.run_if(env.ctx(upload_certs=True, certificate_key=KEY))


def test_upload_certs_encrypts_and_is_owned_by_a_short_lived_token(env: Env) -> None:
    ctx = env.ctx(upload_certs=True, certificate_key=KEY)
    run_upload_certs(ctx)
    secret = env.api.obj("Secret", "kubeadm-certs", "kube-system")
    assert secret["type"] == "Opaque"
    assert sorted(secret["data"]) == sorted(
        [
            "ca.crt",
            "ca.key",
            "front-proxy-ca.crt",
            "front-proxy-ca.key",
            "sa.key",
            "sa.pub",
            "etcd-ca.crt",
            "etcd-ca.key",
        ]
    )
    key = bytes.fromhex(KEY)
    for name, value in secret["data"].items():
        raw = base64.b64decode(value)
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], None)  # nonce || ciphertext || tag
        path = "/etc/kubernetes/pki/" + ("etcd/" + name[5:] if name.startswith("etcd-") else name)
        assert plain == env.files[path], name
    (ref,) = secret["metadata"]["ownerReferences"]
    owner = env.api.obj("Secret", ref["name"], "kube-system")
    assert ref["uid"] == owner["metadata"]["uid"] and ref["controller"] and ref["blockOwnerDeletion"]
    assert (ref["apiVersion"], ref["kind"]) == ("v1", "Secret")
    data = {k: base64.b64decode(v).decode() for k, v in owner["data"].items()}
    assert data["description"] == "Proxy for managing TTL for the kubeadm-certs secret"
    assert not any(k.startswith("usage-bootstrap-") for k in data) and "auth-extra-groups" not in data
    from datetime import UTC, datetime

    left = datetime.fromisoformat(data["expiration"].replace("Z", "+00:00")) - datetime.now(UTC)
    assert 7100 < left.total_seconds() <= 7200
    rb = env.api.obj("RoleBinding", "kubeadm:kubeadm-certs", "kube-system")
    assert subjects(rb) == [("Group", BOOTSTRAPPERS)]
    assert env.api.obj("Role", "kubeadm:kubeadm-certs", "kube-system")["rules"][0]["resourceNames"] == [
        "kubeadm-certs"
    ]
    assert ctx.state.certificate_key == KEY and KEY in env.logs[-1]
    rerun_changes_nothing(env, run_upload_certs, upload_certs=True, certificate_key=KEY)


def test_upload_certs_generates_key_and_hides_it_on_request(env: Env) -> None:
    ctx = env.ctx(upload_certs=True, skip_certificate_key_print=True)
    run_upload_certs(ctx)
    key = ctx.state.certificate_key
    assert len(key) == 64 and int(key, 16) >= 0
    assert not any(key in line for line in env.logs)


def test_upload_certs_bad_key(env: Env) -> None:
    with pytest.raises(KubeadmError, match="expected 32 bytes"):
        run_upload_certs(env.ctx(upload_certs=True, certificate_key="abcd"))


def test_download_certs_round_trip_and_wrong_key(env: Env, tmp_path) -> None:
    from kubeadm_py.cluster.copycerts import download_certs, write_downloaded
    from kubeadm_py.hostfs import HostFS

    run_upload_certs(env.ctx(upload_certs=True, certificate_key=KEY))
    client = env.api.client()
    files = download_certs(client, env.cfg, KEY)
    joiner = HostFS(rootfs=tmp_path / "joiner")
    write_downloaded(joiner, files)
    for path, data in env.files.items():
        assert joiner.read_bytes(path) == data
        assert joiner.mode(path) == (0o600 if path.endswith(".key") else 0o644)
    with pytest.raises(KubeadmError, match="message authentication failed"):
        download_certs(client, env.cfg, "b" * 64)
    env.api.objects.pop(("Secret", "kube-system", "kubeadm-certs"))
    with pytest.raises(KubeadmError, match="might have expired"):
        download_certs(client, env.cfg, KEY)


# --- mark-control-plane (phases/markcontrolplane/markcontrolplane.go) -----------------------------------
def test_mark_control_plane_1_20(env: Env) -> None:
    env.add_node(taints=[{"key": "other", "effect": "NoExecute"}])
    run_mark_control_plane(env.ctx())
    node = env.api.obj("Node", "cp-1")
    assert node["metadata"]["labels"] == {
        "node-role.kubernetes.io/master": "",
        "node-role.kubernetes.io/control-plane": "",
        "node.kubernetes.io/exclude-from-external-load-balancers": "",
    }
    assert node["spec"]["taints"] == [
        {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"},
        {"key": "other", "effect": "NoExecute"},
    ]
    assert any("node-role.kubernetes.io/master(deprecated)" in line for line in env.logs)
    rerun_changes_nothing(env, run_mark_control_plane)


def test_mark_control_plane_current_and_explicit_taints(env: Env) -> None:
    env.cfg.cluster["kubernetesVersion"] = "v1.34.0"
    env.add_node()
    run_mark_control_plane(env.ctx())
    node = env.api.obj("Node", "cp-1")
    assert "node-role.kubernetes.io/master" not in node["metadata"]["labels"]
    assert node["spec"]["taints"] == [
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    ]
    env.add_node("cp-2")
    env.cfg.init["nodeRegistration"] = {"name": "cp-2", "taints": []}
    run_mark_control_plane(env.ctx())
    assert "taints" not in env.api.obj("Node", "cp-2")["spec"], "taints: [] means no taints"


def test_mark_control_plane_waits_bounded_for_the_node(env: Env) -> None:
    with pytest.raises(ApiError, match="timed out waiting for the Node 'cp-1'"):
        run_mark_control_plane(env.ctx(api_timeout=0.05))


def test_forbidden_is_a_clear_error(env: Env) -> None:
    env.add_node()
    env.api.forbid.add(("PATCH", "nodes"))
    with pytest.raises(ApiError) as e:
        run_mark_control_plane(env.ctx())
    assert "refused to patch Node cp-1 as user 'kubernetes-admin'" in str(e.value)


# --- bootstrap-token (phases/bootstraptoken/{node,clusterinfo}) -------------------------------------------
def test_bootstrap_token(env: Env) -> None:
    ctx = env.ctx()
    run_bootstrap_token(ctx)
    secret = env.api.obj("Secret", "bootstrap-token-abcdef", "kube-system")
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["token-secret"] == "0123456789abcdef" and data["usage-bootstrap-signing"] == "true"
    crbs = {
        "kubeadm:kubelet-bootstrap": ("system:node-bootstrapper", [("Group", BOOTSTRAPPERS)]),
        "kubeadm:node-autoapprove-bootstrap": (
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            [("Group", BOOTSTRAPPERS)],
        ),
        "kubeadm:node-autoapprove-certificate-rotation": (
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            [("Group", "system:nodes")],
        ),
        "kubeadm:get-nodes": ("kubeadm:get-nodes", [("Group", BOOTSTRAPPERS)]),
    }
    for name, (role, subj) in crbs.items():
        crb = env.api.obj("ClusterRoleBinding", name)
        assert crb["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role,
        }
        assert subjects(crb) == subj
    assert env.api.obj("ClusterRole", "kubeadm:get-nodes")["rules"] == [
        {"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}
    ]
    info = env.api.obj("ConfigMap", "cluster-info", "kube-public")
    ca = base64.b64encode(env.files["/etc/kubernetes/pki/ca.crt"]).decode()
    # clientcmd.Write of a Config holding only the unnamed cluster (go-yaml quotes "" like this)
    assert info["data"]["kubeconfig"] == (
        "apiVersion: v1\nclusters:\n- cluster:\n"
        f"    certificate-authority-data: {ca}\n    server: {env.server}\n"
        '  name: ""\ncontexts: null\ncurrent-context: ""\nkind: Config\npreferences: {}\nusers: null\n'
    )
    assert yaml.safe_load(info["data"]["kubeconfig"])["clusters"][0]["name"] == ""
    rb = env.api.obj("RoleBinding", "kubeadm:bootstrap-signer-clusterinfo", "kube-public")
    assert subjects(rb) == [("User", "system:anonymous")]
    assert env.api.obj("Role", "kubeadm:bootstrap-signer-clusterinfo", "kube-public")["rules"] == [
        {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"]}
    ]
    assert ctx.state.token == TOKEN
    assert not any("0123456789abcdef" in line for line in env.logs), "the token secret is not logged"
    rerun_changes_nothing(env, run_bootstrap_token)


def test_cluster_info_keeps_bootstrap_signer_signatures(env: Env) -> None:
    run_bootstrap_token(env.ctx())
    cm = env.api.obj("ConfigMap", "cluster-info", "kube-public")
    sig = compute_detached_signature(cm["data"]["kubeconfig"], "abcdef", "0123456789abcdef")
    cm["data"]["jws-kubeconfig-abcdef"] = sig  # what the controller-manager's signer adds
    env.api.put(cm)
    run_bootstrap_token(env.ctx())
    assert env.api.obj("ConfigMap", "cluster-info", "kube-public")["data"]["jws-kubeconfig-abcdef"] == sig


def test_empty_init_token_is_generated_once(env: Env) -> None:
    env.cfg.init["bootstrapTokens"] = [{}]
    ctx = env.ctx()
    run_bootstrap_token(ctx)
    tok = ctx.state.token
    assert env.cfg.init["bootstrapTokens"][0]["token"] == tok
    assert env.api.obj("Secret", f"bootstrap-token-{tok[:6]}", "kube-system") is not None


# --- addons (phases/addons/dns, phases/addons/proxy) ----------------------------------------------------
def test_coredns_1_20(env: Env) -> None:
    run_coredns(env.ctx())
    dep = env.api.obj("Deployment", "coredns", "kube-system")
    pod = dep["spec"]["template"]["spec"]
    assert dep["spec"]["replicas"] == 2
    assert pod["containers"][0]["image"] == "registry.k8s.io/coredns:1.7.0"
    assert {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["priorityClassName"] == "system-cluster-critical" and pod["dnsPolicy"] == "Default"
    svc = env.api.obj("Service", "kube-dns", "kube-system")
    assert svc["spec"]["clusterIP"] == "10.96.0.10"
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
        ("metrics", 9153, "TCP"),
    ]
    corefile = env.api.obj("ConfigMap", "coredns", "kube-system")["data"]["Corefile"]
    assert "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n" in corefile
    assert "    cache 30\n    loop\n" in corefile
    role = env.api.obj("ClusterRole", "system:coredns")
    assert {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]} in role["rules"]
    crb = env.api.obj("ClusterRoleBinding", "system:coredns")
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}]
    assert env.api.obj("ServiceAccount", "coredns", "kube-system") is not None
    rerun_changes_nothing(env, run_coredns)


def test_coredns_keeps_replicas_and_user_corefile(env: Env) -> None:
    env.cfg.cluster["kubernetesVersion"] = "v1.34.0"
    run_coredns(env.ctx())
    dep = env.api.obj("Deployment", "coredns", "kube-system")
    assert (
        dep["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.k8s.io/coredns/coredns:v1.12.1"
    )
    dep["spec"]["replicas"] = 5
    env.api.put(dep)
    cm = env.api.obj("ConfigMap", "coredns", "kube-system")
    assert "disable success cluster.local" in cm["data"]["Corefile"]
    cm["data"]["Corefile"] = ".:53 { custom }"
    env.api.put(cm)
    run_coredns(env.ctx())
    assert env.api.obj("Deployment", "coredns", "kube-system")["spec"]["replicas"] == 5
    assert env.api.obj("ConfigMap", "coredns", "kube-system")["data"]["Corefile"] == ".:53 { custom }"


def test_dual_stack_dns_ip_uses_first_family(env: Env) -> None:
    env.cfg.cluster["networking"]["serviceSubnet"] = "fd00:10:96::/108,10.96.0.0/16"
    run_coredns(env.ctx())
    assert env.api.obj("Service", "kube-dns", "kube-system")["spec"]["clusterIP"] == "fd00:10:96::a"


def test_kube_proxy(env: Env) -> None:
    run_kube_proxy(env.ctx())
    cm = env.api.obj("ConfigMap", "kube-proxy", "kube-system")
    assert cm["metadata"]["labels"] == {"app": "kube-proxy"}
    kc = yaml.safe_load(cm["data"]["kubeconfig.conf"])
    assert kc["clusters"][0]["cluster"] == {
        "certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        "server": "https://10.0.0.1:6443",
    }
    assert kc["users"][0]["user"] == {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    proxy = yaml.safe_load(cm["data"]["config.conf"])
    assert proxy["kind"] == "KubeProxyConfiguration" and proxy["clusterCIDR"] == "10.244.0.0/16"
    assert proxy["clientConnection"]["kubeconfig"] == "/var/lib/kube-proxy/kubeconfig.conf"
    ds = env.api.obj("DaemonSet", "kube-proxy", "kube-system")
    c = ds["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "registry.k8s.io/kube-proxy:v1.20.2"
    assert c["command"] == [
        "/usr/local/bin/kube-proxy",
        "--config=/var/lib/kube-proxy/config.conf",
        "--hostname-override=$(NODE_NAME)",
    ]
    assert c["securityContext"] == {"privileged": True}
    crb = env.api.obj("ClusterRoleBinding", "kubeadm:node-proxier")
    assert crb["roleRef"]["name"] == "system:node-proxier"
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}]
    assert subjects(env.api.obj("RoleBinding", "kube-proxy", "kube-system")) == [("Group", BOOTSTRAPPERS)]
    rerun_changes_nothing(env, run_kube_proxy)


def test_print_manifest_talks_to_nobody(env: Env) -> None:
    out = io.StringIO()

    def no_api(path: str, shown: str, retry: object) -> KubeClient:
        raise AssertionError(f"--print-manifest built an API client for {shown}")

    ctx = env.ctx(print_manifest=True, kubeconfig_client=no_api)
    ctx.stdout = out
    run_coredns(ctx)
    run_kube_proxy(ctx)
    docs = [d for d in yaml.safe_load_all(out.getvalue()) if d]
    kinds = [d["kind"] for d in docs]
    assert kinds == [
        "ConfigMap",
        "ClusterRole",
        "ClusterRoleBinding",
        "ServiceAccount",
        "Deployment",
        "Service",
        "ServiceAccount",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "DaemonSet",
    ]
    assert env.api.requests == []


def test_disabled_addons_do_not_run(env: Env) -> None:
    env.cfg.cluster["dns"] = {"disabled": True}
    coredns, proxy = addon_phase().children
    ctx = env.ctx()
    assert coredns.run_if is not None and not coredns.run_if(ctx)
    assert proxy.run_if is not None and proxy.run_if(ctx)


# --- show-join-command and kubelet-finalize -----------------------------------------------------------------
def test_show_join_command(env: Env) -> None:
    from kubeadm_py.tokens.pubkeypin import hash_pem

    env.cfg.cluster["controlPlaneEndpoint"] = "cp.example:6443"
    ctx = env.ctx(upload_certs=True)
    ctx.state.certificate_key = KEY
    run_show_join_command(ctx)
    pin = hash_pem(env.files["/etc/kubernetes/pki/ca.crt"])
    endpoint = env.server.removeprefix("https://")
    out = ctx.outputs
    assert out.token == TOKEN and out.ca_cert_hash == pin and out.endpoint == endpoint
    assert out.certificate_key == KEY
    text = env.logs[-1]
    assert f"kubeadm-py join {endpoint} --token {TOKEN} \\\n\t--discovery-token-ca-cert-hash {pin}" in text
    assert f"--control-plane --certificate-key {KEY}" in text
    ctx2 = env.ctx(skip_token_print=True)
    run_show_join_command(ctx2)
    assert "--token <value withheld>" in env.logs[-1] and "--control-plane" in env.logs[-1]
    assert "--certificate-key" not in env.logs[-1]


def test_kubelet_finalize(env: Env) -> None:
    from tests.unit.cluster.conftest import admin_conf_text

    conf = yaml.safe_load(admin_conf_text(b"ca", "https://10.0.0.1:6443"))
    conf["users"][0]["name"] = conf["contexts"][0]["context"]["user"] = "system:node:cp-1"
    path = env.root / "etc/kubernetes/kubelet.conf"
    path.write_text(yaml.safe_dump(conf))
    ctx = env.ctx()
    assert run_cert_rotation(ctx)[0].action == "unchanged"  # no rotating certificate yet
    pem = env.root / "var/lib/kubelet/pki/kubelet-client-current.pem"
    pem.parent.mkdir(parents=True)
    pem.write_text("cert+key")
    ctx = env.ctx()
    run_cert_rotation(ctx)
    user = yaml.safe_load(path.read_text())["users"][0]["user"]
    assert user == {
        "client-certificate": "/var/lib/kubelet/pki/kubelet-client-current.pem",
        "client-key": "/var/lib/kubelet/pki/kubelet-client-current.pem",
    }
    assert (path.stat().st_mode & 0o777) == 0o600
    ctx = env.ctx()
    run_cert_rotation(ctx)
    assert ctx.fs.changes[-1].action == "unchanged"


# --- dry run ------------------------------------------------------------------------------------------------
def test_dry_run_records_everything_and_writes_nothing(env: Env) -> None:
    ctx = env.ctx(dry_run=True, upload_certs=True, certificate_key=KEY)
    for run in (
        run_upload_kubeadm,
        run_upload_kubelet,
        run_upload_certs,
        run_mark_control_plane,
        run_bootstrap_token,
        run_coredns,
        run_kube_proxy,
    ):
        run(ctx)
    client = ctx.kube()
    assert client.dry_run and env.api.requests == []
    targets = [c.target for c in client.changes]
    assert "Secret kube-system/kubeadm-certs" in targets and "Node cp-1" in targets
    assert "ConfigMap kube-public/cluster-info" in targets
    secret = next(c for c in client.changes if c.target == "Secret kube-system/kubeadm-certs")
    assert (
        secret.action == "create" and "<redacted>" in secret.content and "ownerReferences" in secret.content
    )
    token = next(c for c in client.changes if c.target == "Secret kube-system/bootstrap-token-abcdef")
    assert (
        "0123456789abcdef" not in token.content
        and base64.b64encode(b"0123456789abcdef").decode() not in token.content
    )
    node = [c for c in client.changes if c.target == "Node cp-1" and c.action == "update"][-1]
    assert "node-role.kubernetes.io/control-plane" in node.content
    # reads see what the dry run "wrote"
    assert client.get("ConfigMap", "kubeadm-config", "kube-system") is not None
