"""``certs rotate-ca`` phase ``kubelet``: the kubelet's clientCAFile and, from switch on, its client
certificate from the new CA through a CSR the node files itself; the kubelet restarted and waited for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import CONFIG_MODE, KEY_MODE
from kubeadm_py.phases.rotateca.common import (
    PREFIX,
    kubelet_conf,
    mark_kubelet_restart,
    pki_path,
    restart_mark,
    rotation_of,
)

if TYPE_CHECKING:
    from kubeadm_py.certs.rotateca import Rotation
    from kubeadm_py.phases.rotateca.state import RotateCAContext

CSR_TIMEOUT = 120.0
KUBELET_TIMEOUT = 120.0
KUBELET_STEADY = 3


def run_kubelet(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.certs import rotateca_files as rf
    from kubeadm_py.constants import KUBELET_CONFIG_FILE
    from kubeadm_py.kubelet.service import restart_kubelet

    rot = rotation_of(ctx)
    if rot is None:
        return []
    changes: list[Change] = []
    path = f"{ctx.kubelet_dir.rstrip('/')}/{KUBELET_CONFIG_FILE}"
    text = ctx.fs.read_bytes(path)
    if text is not None:
        client_ca = pki_path(ctx, rc.BUNDLE)
        new = rf.kubelet_config(text, path, client_ca)
        if new != text:
            changes += mark_kubelet_restart(ctx, f"{path} changed")
            changes.append(ctx.fs.write(path, new, 0o644, detail=f"clientCAFile {client_ca}"))
    if rot.spec.signer == "new":
        changes += _kubelet_client_cert(ctx, rot)
    # it reads its clientCAFile (the bundle phase's), client certificate and config.yaml at start; the
    # mark outlives a kill between those writes and this restart
    if ctx.fs.exists(restart_mark(ctx)):
        ctx.log(f"{PREFIX} Restarting the kubelet")
        restarted = restart_kubelet(ctx.fx.services, ctx.fs, ctx.log)
        changes.append(restarted)
        _refuse_unrestarted(ctx, restarted, ctx.fx.services.manager(), ctx.state.command)
        _wait_for_kubelet(ctx)
        changes.append(ctx.fs.remove(restart_mark(ctx)))
    return changes


def _refuse_unrestarted(ctx: RotateCAContext, restarted: Change, manager: str, command: str) -> None:
    """The running kubelet keeps the client certificate and clientCAFile it read at start (v1.20's
    certificate manager loads kubelet-client-current.pem once and only renews near expiry). When
    kubeadm-py could not restart it (PID 1 is not systemd, --rootfs, a failed systemctl), its old
    kubelet still answers /healthz: recording this node as synced then would let ``finish`` drop the
    old CA under a kubelet that still presents it (refused: Unauthorized). Stop before the node phase;
    the files are written, so the rerun after a manual restart goes on to record the node."""
    from kubeadm_py.kubelet.service import failed

    error = failed(restarted)
    if restarted.kind == "process" and error is None:
        return
    if error is None and manager != "systemd":
        error = f"the service manager is {manager!r}, not systemd"
    ctx.fs.remove(restart_mark(ctx))  # the restart is now the operator's, before the rerun
    raise KubeadmError(
        "the kubelet must restart to use its new CA files and client certificate, and kubeadm-py "
        f"could not restart it: {error or restarted.detail}",
        hint=f"restart the kubelet yourself, then rerun 'kubeadm-py certs rotate-ca {command}'",
    )


def _wait_for_kubelet(ctx: RotateCAContext) -> None:
    """The kubelet's /healthz after its restart, so that the next command (a manifest swap right
    after a kubelet restart raced the old and the new static Pod on the test bed) finds it settled."""
    from kubeadm_py.host.health import http_check
    from kubeadm_py.phases.shared.wait_control_plane import kubelet_url

    url = kubelet_url(ctx)
    streak = [0]

    def steady() -> tuple[bool, str]:
        """Healthy at :data:`KUBELET_STEADY` polls in a row: a second restart (a supervisor that
        also restarts on a changed config.yaml) is waited out too."""
        ok, detail = http_check(url, timeout=2.0)
        streak[0] = streak[0] + 1 if ok else 0
        return streak[0] >= KUBELET_STEADY, detail

    ok, detail = ctx.fx.waiter.until(f"the kubelet at {url}", steady, KUBELET_TIMEOUT)
    if not ok:
        raise KubeadmError(f"the kubelet did not become healthy after its restart ({detail})")


def kubelet_cert_file(ctx: RotateCAContext) -> tuple[str | None, bytes | None]:
    """(the file holding the kubelet's client certificate, or None when kubelet.conf embeds it; its PEM)."""
    from kubeadm_py.certs import rotateca_files as rf

    conf = kubelet_conf(ctx)
    text = ctx.fs.read_bytes(conf)
    if text is None:
        raise KubeadmError(f"{conf} not found: is this node part of the cluster?")
    _, user = rf.kubeconfig_client(text, conf)
    if user.get("client-certificate"):
        path = str(user["client-certificate"])
        return path, ctx.fs.read_bytes(path)
    data = user.get("client-certificate-data")
    import base64

    return None, base64.b64decode(data) if data else None


def _kubelet_client_cert(ctx: RotateCAContext, rot: Rotation) -> list[Change]:
    """The kubelet's client certificate from the new CA, through a CSR this node files with its
    kubelet.conf credentials (kubeadm's RBAC has the controller-manager approve such renewals)."""
    from kubeadm_py.certs import rotateca_files as rf

    path, pem = kubelet_cert_file(ctx)
    if pem is not None and rf.signed_by_pem(pem, rot.new):
        return []
    import base64
    import secrets

    from kubeadm_py.discovery.csr import csr_object, node_csr

    client = ctx.fx.api.from_kubeconfig(kubelet_conf(ctx))
    key_pem, csr_pem = node_csr(ctx.state.node_name)
    name = f"kubeadm-py-ca-rotation-{ctx.state.node_name}-{secrets.token_hex(4)}"
    ctx.log(
        f"{PREFIX} Requesting a kubelet client certificate from the new CA (CSR {name}, filed as the node)"
    )
    changes = [client.apply({**csr_object(ctx.state.node_name, csr_pem), "metadata": {"name": name}})]
    issued: dict[str, bytes] = {}

    def signed() -> tuple[bool, str]:
        obj = client.get("CertificateSigningRequest", name) or {}
        cert = (obj.get("status") or {}).get("certificate")
        if not cert:
            return False, "not signed yet"
        issued["pem"] = base64.b64decode(cert)
        return True, "signed"

    ok, detail = ctx.fx.waiter.until(f"CSR {name} approved and signed", signed, CSR_TIMEOUT, interval=1.0)
    if not ok:
        raise KubeadmError(
            f"CSR {name} was not signed within {CSR_TIMEOUT:.0f}s ({detail})",
            hint="approve it with 'kubectl certificate approve', then rerun 'certs rotate-ca sync'",
        )
    if not issued:  # a waiter that answers at once (a dry run's) did not poll: one read
        signed()
    cert_pem = issued.get("pem", b"")
    if not cert_pem:  # a dry run's waiter answers at once: nothing was signed
        return changes
    if not rf.signed_by_pem(cert_pem, rot.new):
        raise KubeadmError(
            f"CSR {name} was signed by another CA than the new one: has the controller-manager restarted?"
        )
    both = cert_pem + key_pem
    changes += mark_kubelet_restart(ctx, "its client certificate is from the new CA")
    if path is None:
        return changes + _embed_kubelet_cert(ctx, cert_pem, key_pem)
    directory = path.rsplit("/", 1)[0]
    fresh = f"{directory}/kubelet-client-{ctx.state.timestamp}.pem"
    changes.append(
        ctx.fs.write(fresh, both, KEY_MODE, secret=True, detail="kubelet client certificate from the new CA")
    )
    if path != fresh:
        ctx.fx.commands.run(["ln", "-sfn", fresh, ctx.fs.confined_path(path)])
        changes.append(Change("file", "update", path, f"-> {fresh}"))
    return changes


def _embed_kubelet_cert(ctx: RotateCAContext, cert_pem: bytes, key_pem: bytes) -> list[Change]:
    import yaml

    from kubeadm_py.certs import rotateca_files as rf
    from kubeadm_py.kubeconfig.build import b64

    conf = kubelet_conf(ctx)
    text = ctx.fs.read_bytes(conf)
    assert text is not None
    doc, user = rf.kubeconfig_client(text, conf)
    user["client-certificate-data"] = b64(cert_pem)
    user["client-key-data"] = b64(key_pem)
    out = yaml.safe_dump(doc, default_flow_style=False, sort_keys=True).encode()
    return [
        ctx.fs.write(conf, out, CONFIG_MODE, secret=True, detail="kubelet client certificate from the new CA")
    ]
