"""Cluster checks of what kubeadm set up and keeps: the bootstrap objects (cluster-info signatures,
RBAC), versions within the skew policy, serving certificates across nodes, and this node's static
Pod manifests against kubeadm-config. Each is ``(env) -> (detail, problems)``."""

from __future__ import annotations

from typing import Any

from kubeadm_py.constants import CONTROL_PLANE_COMPONENTS, KUBE_PUBLIC, KUBE_SYSTEM
from kubeadm_py.verify.env import Obj, VerifyEnv, name_of
from kubeadm_py.verify.model import Problem, Skip

REWRITE_FIX = (
    "put the rendered manifest back (kubeadm-py upgrade diff shows it; kubeadm-py upgrade apply "
    "<the cluster's version> -y rewrites it)"
)


# --- bootstrap objects -----------------------------------------------------------------------------


def cluster_info(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """``kube-public/cluster-info`` exists and carries a valid JWS signature for every valid token
    that may sign (what joining nodes verify)."""
    from kubeadm_py.cluster.tokenops import list_tokens
    from kubeadm_py.tokens.jws import signature_key, verify_detached_signature

    client = env.client()
    cm = client.get("ConfigMap", "cluster-info", KUBE_PUBLIC)
    if cm is None:
        return "cluster-info missing", [
            Problem(
                f"ConfigMap {KUBE_PUBLIC}/cluster-info is missing", "kubeadm-py init phase bootstrap-token"
            )
        ]
    data = cm.get("data") or {}
    content = str(data.get("kubeconfig") or "")
    now = env.now()
    tokens = [
        t
        for t in list_tokens(client, env.log)
        if "signing" in t.usages and (t.expires is None or t.expires > now)
    ]
    problems = []
    for t in tokens:
        sig = data.get(signature_key(t.token.id))
        if not sig:
            problems.append(
                Problem(
                    f"cluster-info is not signed for token {t.token.id}",
                    "the bootstrap signer of kube-controller-manager signs it: check that it runs with "
                    "--controllers=*,bootstrapsigner,tokencleaner",
                )
            )
        elif not verify_detached_signature(content, str(sig), t.token.id, t.token.secret):
            problems.append(
                Problem(
                    f"cluster-info's signature for token {t.token.id} does not match its content",
                    f"delete the key {signature_key(t.token.id)} from {KUBE_PUBLIC}/cluster-info: the "
                    "bootstrap signer writes it again",
                )
            )
    return f"signed for {len(tokens) - len(problems)}/{len(tokens)} valid signing token(s)", problems


def bootstrap_rbac(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """The RBAC objects kubeadm creates for bootstrap tokens, node certificate rotation and
    cluster-info (and ``kubeadm:cluster-admins`` from v1.29) exist as kubeadm makes them."""
    from kubeadm_py.cluster import adminbinding
    from kubeadm_py.cluster.bootstraptoken import cluster_info_rbac, node_rbac
    from kubeadm_py.kube.compare import matches
    from kubeadm_py.kube.kinds import object_key

    version = env.cluster_version()
    wanted: list[tuple[Obj, str]] = [
        (o, "kubeadm-py init phase bootstrap-token") for _, objs in node_rbac(version) for o in objs
    ]
    wanted += [(o, "kubeadm-py init phase bootstrap-token") for o in cluster_info_rbac()]
    if adminbinding.needed(version):
        wanted.append((adminbinding.BINDING, "kubeadm-py init phase kubeconfig admin"))
    client = env.client()
    problems = []
    for obj, fix in wanted:
        kind, ns, name = object_key(obj)
        live = client.get(kind, name, ns or None)
        where = f"{kind} {ns + '/' if ns else ''}{name}"
        if live is None:
            problems.append(Problem(f"{where} is missing", fix))
        elif not matches(obj, live):
            problems.append(
                Problem(f"{where} differs from what kubeadm creates (roleRef, subjects or rules)", fix)
            )
    return f"{len(wanted) - len(problems)}/{len(wanted)} bootstrap RBAC objects present", problems


# --- versions --------------------------------------------------------------------------------------


def version_skew(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """Kubernetes' version skew policy: API servers within one minor of each other; controller
    managers and schedulers not newer than the oldest API server and at most one minor older;
    kubelets not newer than it and within the policy's minors older."""
    from kubeadm_py.semver import Version, VersionError
    from kubeadm_py.upgrade.facts import kubelet_versions
    from kubeadm_py.upgrade.manifests import tag_of
    from kubeadm_py.upgrade.policy import kubelet_skew

    def parse(text: str) -> Version | None:
        try:
            return Version.parse_semantic(text)
        except VersionError:
            return None

    found: dict[str, list[tuple[str, Version]]] = {c: [] for c in CONTROL_PLANE_COMPONENTS}
    for p in env.pods(KUBE_SYSTEM):
        labels = (p.get("metadata") or {}).get("labels") or {}
        # a static Pod's mirror, or a self-hosted component's DaemonSet Pod (docs/selfhosting.md)
        comp = labels.get("component") or str(labels.get("k8s-app", "")).removeprefix("self-hosted-")
        containers = (p.get("spec") or {}).get("containers") or [{}]
        v = parse(tag_of(str(containers[0].get("image", ""))))
        if comp in found and v is not None:
            found[comp].append((str((p.get("spec") or {}).get("nodeName", "?")), v))
    server = parse(env.cluster_version())
    apis = [v for _, v in found["kube-apiserver"]] or ([server] if server else [])
    if not apis:
        raise Skip("no API server version known")
    oldest = min(apis)
    problems = []
    if max(apis).minor - oldest.minor > 1:
        problems.append(
            Problem(
                f"API servers span more than one minor: {min(apis)} to {max(apis)}",
                "finish the upgrade: kubeadm-py upgrade apply/node",
            )
        )
    for comp in ("kube-controller-manager", "kube-scheduler"):
        for node, v in found[comp]:
            if v > oldest or oldest.minor - v.minor > 1:
                problems.append(
                    Problem(
                        f"{comp} {v} on {node} is outside the skew policy for API server {oldest} "
                        "(not newer, at most one minor older)",
                        f"upgrade the control plane on {node}: kubeadm-py upgrade node",
                    )
                )
    allowed = kubelet_skew(oldest)
    kubelets = kubelet_versions(env.client())
    for node, text in sorted(kubelets.items()):
        v = parse(text)
        if v is None:
            continue
        if (v.major, v.minor) > (oldest.major, oldest.minor) or oldest.minor - v.minor > allowed:
            problems.append(
                Problem(
                    f"the kubelet {v} on {node} is outside the skew policy for API server {oldest} "
                    f"(not newer, at most {allowed} minors older)",
                    f"upgrade the kubelet on {node} (kubeadm-py upgrade node, then the kubelet package)",
                )
            )
    return f"API server {oldest}, {len(kubelets)} kubelet(s) checked", problems


# --- certificates across nodes ---------------------------------------------------------------------


def serving_certificates(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """The serving certificates nodes present, where reachable: each control-plane node's API
    server (6443) and every kubelet (10250). An unreachable endpoint is reported by the other
    checks; here it is only counted."""
    from kubeadm_py.verify.certs import expiry_problem

    targets: list[tuple[str, str, int]] = []
    for n in env.nodes():
        addr = _internal_ip(n)
        if not addr:
            continue
        targets.append((f"kubelet serving certificate of {name_of(n)}", addr, 10250))
    for n in env.control_plane_nodes():
        addr = _internal_ip(n)
        if addr:
            targets.append(
                (f"API server serving certificate on {name_of(n)}", addr, env.cluster_cfg().bind_port)
            )
    problems = []
    read = 0
    for what, host, port in targets:
        try:
            der = env.peer_cert(host, port)
        except OSError:
            continue
        read += 1
        problem = expiry_problem(
            env,
            what,
            _not_after(der),
            "renew it (kubeadm-py certs renew, or restart the kubelet for its self-signed certificate)",
        )
        if problem is not None:
            problems.append(problem)
    return f"{read}/{len(targets)} serving certificates read", problems


def _internal_ip(n: Obj) -> str:
    for a in (n.get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            return str(a.get("address", ""))
    return ""


def _not_after(der: bytes) -> Any:
    from cryptography import x509

    return x509.load_der_x509_certificate(der).not_valid_after_utc


# --- drift -----------------------------------------------------------------------------------------


def daemonset_drift(env: VerifyEnv, comp: str, manifest: bytes | str) -> list[Problem]:
    """The pod template of ``comp``'s self-hosting DaemonSet against the static Pod kubeadm-config
    renders for this node, made a DaemonSet as pivot makes it: command flags and image. No
    DaemonSet: nothing here (an absent component is the control-plane checks' to report)."""
    import yaml

    from kubeadm_py.constants import KUBE_SYSTEM
    from kubeadm_py.selfhosting.contract import ds_name
    from kubeadm_py.selfhosting.daemonset import build_daemonset, image_version
    from kubeadm_py.upgrade.manifests import flag_changes

    live = env.client().get("DaemonSet", ds_name(comp), KUBE_SYSTEM)
    if live is None:
        return []
    pod = yaml.safe_load(manifest)
    want = build_daemonset(comp, pod, image_version(pod))["spec"]["template"]
    have = ((live.get("spec") or {}).get("template")) or {}
    text = {k: yaml.safe_dump({"spec": t.get("spec") or {}}).encode() for k, t in (("w", want), ("h", have))}
    flags = flag_changes(text["h"], text["w"])
    parts = [f"--{f['flag']} {f['to']!r} expected, found {f['from']!r}" for f in flags["changed"]]
    parts += [f"--{f['flag']} missing" for f in flags["added"]]
    parts += [f"--{f['flag']}={f['value']} not in kubeadm-config" for f in flags["removed"]]
    images = [((t.get("spec") or {}).get("containers") or [{}])[0].get("image") for t in (want, have)]
    if images[0] != images[1]:
        parts.append(f"image {images[0]!r} expected, found {images[1]!r}")
    if not parts:
        return []
    return [
        Problem(
            f"DaemonSet {KUBE_SYSTEM}/{ds_name(comp)} drifted from kubeadm-config: {'; '.join(parts)}",
            "record the change in the ClusterConfiguration (kubeadm-py upgrade apply --config), or "
            f"kubectl -n {KUBE_SYSTEM} edit ds {ds_name(comp)}",
        )
    ]


def manifest_drift(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """This node's static Pod manifests against what kube-system/kubeadm-config renders for it (the
    code ``upgrade diff`` and ``init`` use; ``--patches`` applied)."""
    import yaml

    from kubeadm_py.kube.compare import changed_paths
    from kubeadm_py.upgrade.manifests import flag_changes

    if not env.is_control_plane():
        raise Skip("no static Pod manifests on this node (not a control-plane node)")
    node_manifests = env.rendered()[1]
    comps = (*CONTROL_PLANE_COMPONENTS, "etcd") if env.manifest("etcd") else CONTROL_PLANE_COMPONENTS
    new = node_manifests.generate(comps)
    problems = []
    for comp in comps:
        path = node_manifests.path(comp)
        old = node_manifests.current(comp)
        if old is None:
            problems.extend(daemonset_drift(env, comp, new[comp]))  # self-hosted (or absent)
            continue
        want = yaml.safe_load(new[comp])
        try:
            have = yaml.safe_load(old)
        except yaml.YAMLError as e:
            problems.append(Problem(f"{path} is not valid YAML: {str(e).splitlines()[0]}", REWRITE_FIX))
            continue
        if want == have:
            continue
        flags = flag_changes(old, new[comp])
        parts = [f"--{f['flag']} {f['to']!r} expected, found {f['from']!r}" for f in flags["changed"]]
        parts += [f"--{f['flag']} missing" for f in flags["added"]]
        parts += [f"--{f['flag']}={f['value']} not in kubeadm-config" for f in flags["removed"]]
        if not parts:
            paths = changed_paths(want, have)[:3] or changed_paths(have, want)[:3]
            parts = [f"differs at {', '.join(paths) or 'fields kubeadm does not set'}"]
        problems.append(
            Problem(
                f"{path} on {env.node_name()} drifted from kubeadm-config: {'; '.join(parts)}",
                "record the change in the ClusterConfiguration (kubeadm-py upgrade apply --config), or "
                + REWRITE_FIX.replace("<the cluster's version>", env.cluster_version()),
            )
        )
    return f"{len(comps) - len(problems)}/{len(comps)} manifests match kubeadm-config", problems
