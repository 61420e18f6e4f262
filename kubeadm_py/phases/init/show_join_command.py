"""``init phase show-join-command``: print the join commands for workers and control planes and
publish their parts (``token``, ``ca_cert_hash``, ``certificate_key``, ``endpoint``) for ``-o json``."""

from __future__ import annotations

from typing import Any

from kubeadm_py.changes import Change
from kubeadm_py.phases.shared.certs import CA
from kubeadm_py.phases.shared.kit import outputs
from kubeadm_py.workflow.phase import Phase

FLAGS = (
    "config", "kubeconfig", "upload-certs", "certificate-key", "skip-certificate-key-print",
    "skip-token-print",
)  # fmt: skip


def run_show_join_command(ctx: Any) -> list[Change]:
    from kubeadm_py.cluster.joincommand import JoinCommand, context_values, success_message

    cmd = context_values(ctx)
    upload = bool(ctx.opts.get("upload_certs")) and bool(cmd.certificate_key)
    if not upload:  # the key is only part of the command when the certificates were uploaded
        cmd = JoinCommand(cmd.endpoint, cmd.token, cmd.ca_cert_hashes, "")
    outputs(
        ctx,
        endpoint=cmd.endpoint,
        token=cmd.token,
        ca_cert_hash=cmd.ca_cert_hashes[0] if cmd.ca_cert_hashes else "",
        ca_cert_hashes=cmd.ca_cert_hashes,
        certificate_key=cmd.certificate_key,
        join_command=cmd.render(),
        join_control_plane_command=cmd.render(control_plane=True),
    )
    ctx.log(
        success_message(
            cmd,
            has_control_plane_endpoint=bool(ctx.cfg.cluster.get("controlPlaneEndpoint")),
            upload_certs=upload,
            hide_token=bool(ctx.opts.get("skip_token_print")),
            hide_key=bool(ctx.opts.get("skip_certificate_key_print")),
            admin_conf=ctx.admin_kubeconfig,
        )
    )
    return []


def show_join_command_phase() -> Phase:
    return Phase(
        name="show-join-command",
        help="Show the join command for control-plane and worker node",
        run=run_show_join_command,
        flags=FLAGS,
        requires=(CA,),
    )
