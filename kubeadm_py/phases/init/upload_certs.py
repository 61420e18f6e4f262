"""``init phase upload-certs --upload-certs``: encrypt the shared CA keys and certificates into the
``kube-system/kubeadm-certs`` Secret (owned by a 2-hour bootstrap token) for joining control planes.

Idempotent: when the live Secret already decrypts, with the given key, to exactly the files on disk
and its owner token still exists, nothing is written (upstream would mint a new token and re-encrypt)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeadm_py.phases.shared.kit import ADMIN_KUBECONFIG
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.phases.init.state import InitContext

FLAGS = ("upload-certs", "certificate-key", "skip-certificate-key-print", "config", "kubeconfig", "dry-run")


def certificate_key(ctx: InitContext) -> str:
    """--certificate-key, else InitConfiguration.certificateKey, else one made earlier in this run,
    else a new one."""
    from kubeadm_py.cluster.copycerts import create_certificate_key

    key = (
        ctx.options.certificate_key or (ctx.cfg.init or {}).get("certificateKey") or ctx.state.certificate_key
    )
    return str(key) if key else create_certificate_key()


def run_upload_certs(ctx: InitContext) -> None:
    from datetime import UTC, datetime

    from kubeadm_py.cluster import copycerts
    from kubeadm_py.constants import KUBE_SYSTEM, KUBEADM_CERTS_SECRET
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.tokens import model

    key_hex = certificate_key(ctx)
    key = copycerts.decode_key(key_hex)
    ctx.state.certificate_key = ctx.outputs.certificate_key = key_hex
    ctx.log(
        f'[upload-certs] Storing the certificates in Secret "{KUBEADM_CERTS_SECRET}" '
        f'in the "{KUBE_SYSTEM}" Namespace'
    )
    client = ctx.kube()
    plain = copycerts.read_plaintexts(ctx.fs, ctx.cfg)
    live = client.get("Secret", KUBEADM_CERTS_SECRET, KUBE_SYSTEM)
    if live is not None and _same_content(live, plain, key, client):
        client.record(
            "unchanged", f"Secret {KUBE_SYSTEM}/{KUBEADM_CERTS_SECRET}", "already holds these certificates"
        )
    else:
        token = model.BootstrapToken(
            model.TokenString.parse(model.generate_token()),
            description=model.CERT_TOKEN_DESCRIPTION,
            ttl=model.CERT_TOKEN_TTL,
            usages=[],
            groups=[],
        )
        client.create_only(token.to_secret(datetime.now(UTC)))
        owner = client.get("Secret", model.secret_name(token.token.id), KUBE_SYSTEM)
        if owner is None:
            raise KubeadmError(
                "error to get token reference: the short-lived bootstrap token Secret disappeared"
            )
        uid = str((owner.get("metadata") or {}).get("uid", ""))
        client.apply(copycerts.certs_secret(plain, key, token.token.id, uid))
    for obj in copycerts.certs_rbac():
        client.apply(obj)
    if not ctx.options.skip_certificate_key_print:
        ctx.log(f"[upload-certs] Using certificate key:\n{key_hex}")


def _same_content(live: dict[str, Any], plain: dict[str, bytes], key: bytes, client: KubeClient) -> bool:
    from kubeadm_py.cluster.copycerts import decrypt_secret
    from kubeadm_py.errors import KubeadmError

    try:
        if decrypt_secret(live, key) != plain:
            return False
    except (KubeadmError, ValueError):
        return False
    refs = (live.get("metadata") or {}).get("ownerReferences") or []
    return any(
        r.get("kind") == "Secret" and client.get("Secret", r.get("name", ""), "kube-system") for r in refs
    )


def upload_certs_phase() -> Phase[InitContext]:
    return Phase(
        name="upload-certs",
        help="Upload certificates to kubeadm-certs",
        run=run_upload_certs,
        flags=FLAGS,
        requires=(ADMIN_KUBECONFIG,),
        provides=("upload-certs",),
        # kubeadm logs "Skipping phase. Please see --upload-certs"; here it is the phase line.
        run_if=_asked,
        skip_reason="--upload-certs not given",
    )


def _asked(ctx: InitContext) -> bool:
    return bool(ctx.options.upload_certs)
