"""``certs rotate-sa [--finish]``: keys -> tokens -> kube-apiserver -> kube-controller-manager ->
cleanup. Which half of the rotation runs is ``--finish``; every phase compares the node with the
wanted state of that half, so a rerun changes nothing and a rerun after a failure continues.
Manifests are swapped by the upgrade's static Pod machine (backup, wait for the kubelet to run the
new manifest and for health, roll back on failure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.errors import KubeadmError
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.phases.rotatesa.state import RotateContext
    from kubeadm_py.pki.keys import PublicKey

CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
# a swap in progress (phases/shared/manifest_swaps.py): a rerun after a kill still waits for the new Pod
SWAP_MARK = "kubeadm-py-sa-rotation-swap-{}"


def _pub(ctx: RotateContext, name: str) -> PublicKey | None:
    from kubeadm_py.pki.store import PKIStore

    return PKIStore(ctx.fs, ctx.cert_dir).read_public(name)


def _previous_path(ctx: RotateContext) -> str:
    from kubeadm_py.certs.rotatesa import PREVIOUS_PUB

    return f"{ctx.cert_dir.rstrip('/')}/{PREVIOUS_PUB}"


def rotating(ctx: RotateContext) -> bool:
    return ctx.fs.exists(_previous_path(ctx))


def _one_control_plane(ctx: RotateContext) -> None:
    """The new key must be on every control-plane node before any API server signs with it;
    distributing it is not built yet, so a cluster with several is refused (before any change)."""
    nodes = ctx.kube().list("Node")
    cps = [
        n["metadata"]["name"]
        for n in nodes
        if any(label in ((n.get("metadata") or {}).get("labels") or {}) for label in CONTROL_PLANE_LABELS)
    ]
    if len(cps) > 1:
        raise KubeadmError(
            f"the cluster has {len(cps)} control-plane nodes ({', '.join(sorted(cps))}); rotate-sa "
            "supports one so far",
            hint="the manual procedure in docs/pki.md rotates the key on several control-plane nodes",
        )


def run_keys(ctx: RotateContext) -> list[Change]:
    from kubeadm_py.certs.rotatesa import PREVIOUS_PUB
    from kubeadm_py.pki import manager, specs
    from kubeadm_py.pki.keys import encode_public_key, generate_key, same_public_key
    from kubeadm_py.pki.store import PKIStore

    if ctx.options.finish:
        if not rotating(ctx):
            raise KubeadmError(
                f"no service-account key rotation in progress ({_previous_path(ctx)} not found)",
                hint="start one with 'kubeadm-py certs rotate-sa'",
            )
        ctx.log("[rotate-sa] Finishing the rotation: the previous public key will no longer be trusted")
        return []
    store = PKIStore(ctx.fs, ctx.cert_dir)
    key, current = store.read_key("sa"), store.read_public(specs.SA_PUB)
    if key is None or current is None:
        raise KubeadmError(f"no service-account key pair in {ctx.cert_dir} (sa.key, sa.pub)")
    changes: list[Change] = []
    if rotating(ctx):
        previous = _pub(ctx, PREVIOUS_PUB)
        if previous is None or not same_public_key(key.public_key(), previous):
            if not same_public_key(current, key.public_key()):  # interrupted before sa.pub
                return [store.write_public(specs.SA_PUB, key.public_key())]
            ctx.log(f"[rotate-sa] A rotation is in progress ({_previous_path(ctx)}): keeping the new key")
            return []
        ctx.log("[rotate-sa] Continuing an interrupted rotation: the new key was not written yet")
    else:
        _one_control_plane(ctx)
        ctx.log(f"[rotate-sa] Keeping the current public key as {_previous_path(ctx)}")
        # The previous key first: a crash after it leaves a rotation in progress that a rerun continues.
        changes.append(
            ctx.fs.write(_previous_path(ctx), encode_public_key(current), 0o644, detail="previous public key")
        )
    ctx.log("[rotate-sa] Writing a new service-account key pair (sa.key, sa.pub)")
    new = generate_key(manager.settings(ctx.cfg).algorithm)
    return changes + [
        store.write_key("sa", new, detail="new service-account signing key"),
        store.write_public(specs.SA_PUB, new.public_key()),
    ]


def run_tokens(ctx: RotateContext) -> list[Change]:
    from kubeadm_py.certs.rotatesa import secrets_signed_by

    if not ctx.options.finish:
        ctx.log("[rotate-sa] Tokens signed with the previous key stay valid until --finish")
        return []
    previous = _pub(ctx, _previous_path(ctx).rsplit("/", 1)[1])
    if previous is None:
        return []
    client = ctx.kube()
    namespaces = [str(n["metadata"]["name"]) for n in client.list("Namespace")]
    stale = [s for ns in namespaces for s in secrets_signed_by(client.list("Secret", ns), previous)]
    if not stale:
        ctx.log("[rotate-sa] No token Secret is signed with the previous key")
    changes = []
    for namespace, name in stale:
        ctx.log(f"[rotate-sa] Deleting token Secret {namespace}/{name} (signed with the previous key)")
        changes.append(client.delete("Secret", name, namespace))
    return changes


def _swap(ctx: RotateContext, component: str, new: bytes) -> list[Change]:
    from kubeadm_py.phases.shared.manifest_swaps import mark_path, swap_marked
    from kubeadm_py.upgrade.staticpods import ManifestSwap

    path = f"{ctx.manifests_dir}/{component}.yaml"
    old = ctx.fs.read_bytes(path)
    if old == new and not ctx.fs.exists(mark_path(SWAP_MARK, component)):
        ctx.log(f"[rotate-sa] {component} already runs with the wanted keys")
        return []
    swap = ManifestSwap(component, path, new, old)
    swap_marked(ctx, ctx.state.node_name, ctx.state.timestamp, [swap], SWAP_MARK, "[rotate-sa]")
    return []  # files written through ctx.fs are collected by the runner


def _manifest(ctx: RotateContext, component: str) -> tuple[str, bytes]:
    path = f"{ctx.manifests_dir}/{component}.yaml"
    data = ctx.fs.read_bytes(path)
    if data is None:
        raise KubeadmError(f"{path} not found", hint="certs rotate-sa runs on a control-plane node")
    return path, data


def run_apiserver(ctx: RotateContext) -> list[Change]:
    from kubeadm_py.certs.rotatesa import apiserver_manifest

    path, text = _manifest(ctx, "kube-apiserver")
    trust = rotating(ctx) and not ctx.options.finish
    return _swap(ctx, "kube-apiserver", apiserver_manifest(text, path, _previous_path(ctx), trust))


def run_controller_manager(ctx: RotateContext) -> list[Change]:
    from kubeadm_py.certs.rotatesa import controller_manager_manifest, key_id
    from kubeadm_py.pki import specs

    path, text = _manifest(ctx, "kube-controller-manager")
    current = _pub(ctx, specs.SA_PUB)
    signing = key_id(current) if current is not None and rotating(ctx) and not ctx.options.finish else None
    return _swap(ctx, "kube-controller-manager", controller_manager_manifest(text, path, signing))


def run_cleanup(ctx: RotateContext) -> list[Change]:
    if not ctx.options.finish:
        ctx.log(
            "[rotate-sa] Rotation begun. When every Pod runs with a new token, run: "
            "kubeadm-py certs rotate-sa --finish"
        )
        return []
    if not rotating(ctx):
        return []
    ctx.log("[rotate-sa] Rotation finished: only the new service-account key is trusted")
    return [ctx.fs.remove(_previous_path(ctx))]


FLAGS = ("config", "kubeconfig", "cert-dir", "dry-run", "finish")


def phases() -> tuple[Phase[RotateContext], ...]:
    return (
        Phase(
            "keys",
            "Keep the current public key, write a new service-account key pair",
            run=run_keys,
            flags=FLAGS,
        ),
        Phase(
            "tokens",
            "With --finish: delete token Secrets the previous key signed",
            run=run_tokens,
            flags=FLAGS,
        ),
        Phase(
            "kube-apiserver", "Trust the previous public key until --finish", run=run_apiserver, flags=FLAGS
        ),
        Phase(
            "kube-controller-manager",
            "Restart kube-controller-manager so it signs with the new key",
            run=run_controller_manager,
            flags=FLAGS,
        ),
        Phase("cleanup", "With --finish: remove the previous public key", run=run_cleanup, flags=FLAGS),
    )
