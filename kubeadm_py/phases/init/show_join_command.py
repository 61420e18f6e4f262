"""``init phase show-join-command``: print the join commands for workers and control planes and
publish their parts (``token``, ``ca_cert_hash``, ``certificate_key``, ``endpoint``) for ``-o json``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.phases.shared.certs import CA
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.phases.init.state import InitContext

FLAGS = (
    "config", "kubeconfig", "upload-certs", "certificate-key", "skip-certificate-key-print",
    "skip-token-print",
)  # fmt: skip


def run_show_join_command(ctx: InitContext) -> list[Change]:
    from kubeadm_py.cluster.joincommand import JoinCommand, join_values, success_message

    cmd = join_values(
        ctx.fs,
        ctx.cfg,
        admin_kubeconfig=ctx.admin_kubeconfig,
        cert_dir=ctx.cert_dir,
        token=ctx.state.token,
        certificate_key=ctx.state.certificate_key or ctx.options.certificate_key,
    )
    upload = bool(ctx.options.upload_certs) and bool(cmd.certificate_key)
    if not upload:  # the key is only part of the command when the certificates were uploaded
        cmd = JoinCommand(cmd.endpoint, cmd.token, cmd.ca_cert_hashes, "")
    out = ctx.outputs
    out.endpoint, out.token = cmd.endpoint, cmd.token
    out.ca_cert_hash = cmd.ca_cert_hashes[0] if cmd.ca_cert_hashes else ""
    out.ca_cert_hashes = cmd.ca_cert_hashes
    out.certificate_key = cmd.certificate_key
    out.join_command = cmd.render()
    out.join_control_plane_command = cmd.render(control_plane=True)
    ctx.log(
        success_message(
            cmd,
            has_control_plane_endpoint=bool(ctx.cfg.cluster.get("controlPlaneEndpoint")),
            upload_certs=upload,
            hide_token=bool(ctx.options.skip_token_print),
            hide_key=bool(ctx.options.skip_certificate_key_print),
            admin_conf=ctx.admin_kubeconfig,
        )
    )
    return [Change("note", "unchanged", "join command", "printed the join commands")]


def show_join_command_phase() -> Phase[InitContext]:
    return Phase(
        name="show-join-command",
        help="Show the join command for control-plane and worker node",
        run=run_show_join_command,
        flags=FLAGS,
        requires=(CA,),
        # No success banner after an error where a real run stops (a dry run goes past it).
        run_if=_not_stopped,
        skip_reason="a real run stops before this phase",
    )


def _not_stopped(ctx: InitContext) -> bool:
    return not ctx.fx.stops.stopped
