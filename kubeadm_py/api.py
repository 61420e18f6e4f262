"""The public Python API for provisioners that embed kubeadm-py.

Typical use::

    from kubeadm_py import api

    cfg = api.load_config("cluster.yaml")                      # load, convert, default, validate
    report = api.run("init", config="cluster.yaml", phases=["certs"], rootfs="/srv/image", dry_run=True)
    for outcome in report.phases:
        print(outcome.path, outcome.status, [c.target for c in outcome.changes])

``run`` returns a :class:`~kubeadm_py.workflow.report.RunReport` (what changed, per phase, with
timings, plus outputs such as the join command parts) and raises
:class:`~kubeadm_py.errors.KubeadmError` subclasses on failure; a failed phase raises
:class:`~kubeadm_py.errors.PhaseError` whose ``report`` attribute holds the partial report.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.options import FLAGS
from kubeadm_py.phases.context import RunContext
from kubeadm_py.workflow import runner
from kubeadm_py.workflow.phase import flatten
from kubeadm_py.workflow.report import NullReporter, Reporter, RunReport

__all__ = ["load_config", "run", "phase_paths", "build_context", "RunReport", "KubeadmConfig"]


def load_config(
    config: str | None = None,
    *,
    kind: str = "init",
    overrides: Mapping[str, Any] | None = None,
    dynamic_defaults: bool = True,
) -> KubeadmConfig:
    """Load (file path or ``-``), convert older API versions, apply ``overrides`` (dotted config
    paths such as ``cluster.networking.serviceSubnet``), default and validate."""
    from kubeadm_py.config.resolve import build_config

    return build_config(kind, config, overrides or {}, dynamic_defaults=dynamic_defaults)  # type: ignore[arg-type]


def _split_list(value: Iterable[str]) -> list[str]:
    return [p.strip() for v in value for p in str(v).split(",") if p.strip()]


def _feature_gates(text: str) -> dict[str, bool]:
    from kubeadm_py.errors import KubeadmError

    gates: dict[str, bool] = {}
    for part in _split_list([text]):
        key, sep, val = part.partition("=")
        if not sep or val.lower() not in ("true", "false"):
            raise KubeadmError(f"--feature-gates: {part!r} is not key=true|false")
        gates[key.strip()] = val.lower() == "true"
    return gates


def normalize_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options keyed by parameter name (``cert_dir``); lists split on commas."""
    out: dict[str, Any] = {}
    by_param = {s.param: s for s in FLAGS.values()}
    for key, value in options.items():
        param = key.replace("-", "_")
        spec = by_param.get(param)
        if spec is not None and spec.type is list and value is not None:
            value = _split_list([value] if isinstance(value, str) else value)
        out[param] = value
    return out


def config_overrides(opts: Mapping[str, Any]) -> dict[str, Any]:
    by_param = {s.param: s for s in FLAGS.values()}
    out: dict[str, Any] = {}
    for param, value in opts.items():
        spec = by_param.get(param)
        if spec is None or spec.config_path is None or value is None or value == []:
            continue
        out[spec.config_path] = _feature_gates(value) if spec.name == "feature-gates" else value
    return out


def build_context(workflow: str, options: Mapping[str, Any], reporter: Reporter | None = None) -> RunContext:
    """Resolve the configuration and effectors for a workflow run."""
    from kubeadm_py import workflows

    wf = workflows.get(workflow)
    opts = normalize_options(options)
    overrides = config_overrides(opts)
    if wf.extra_overrides is not None:
        overrides.update(wf.extra_overrides(opts))
    cfg = load_config(opts.get("config"), kind=wf.config_kind, overrides=overrides)
    dry_run = bool(opts.get("dry_run"))
    sandbox = None
    if dry_run:
        sandbox = os.environ.get("KUBEADM_PY_DRYRUN_DIR") or tempfile.mkdtemp(prefix="kubeadm-py-dryrun-")
        opts.setdefault("_sandbox_owned", "KUBEADM_PY_DRYRUN_DIR" not in os.environ)
    fs = HostFS(rootfs=opts.get("rootfs"), sandbox=sandbox)
    rep = reporter or NullReporter()
    for warning in cfg.warnings:
        rep.message(f"[config] WARNING: {warning}")
    ctx = RunContext(cfg=cfg, fs=fs, opts=opts, dry_run=dry_run, log=rep.message, kube_factory=_kube_factory)
    if wf.prepare is not None:
        wf.prepare(ctx)
    return ctx


def _kube_factory(ctx: RunContext) -> Any:
    from kubeadm_py.kube.factory import client_for

    return client_for(ctx)


def run(
    workflow: str = "init",
    *,
    config: str | None = None,
    phases: Iterable[str] | None = None,
    skip_phases: Iterable[str] | None = None,
    dry_run: bool = False,
    rootfs: str | None = None,
    options: Mapping[str, Any] | None = None,
    reporter: Reporter | None = None,
) -> RunReport:
    """Run a workflow, or only the given phase paths (``["certs/ca", "kubeconfig"]``).

    ``options`` takes any flag by name (``{"apiserver-advertise-address": "10.0.0.1"}`` or
    ``{"apiserver_advertise_address": ...}``); explicit keyword arguments win."""
    import time

    from kubeadm_py import journal, workflows
    from kubeadm_py.errors import PhaseError

    opts = dict(options or {})
    opts.update({"config": config or opts.get("config"), "dry_run": dry_run or bool(opts.get("dry_run"))})
    if rootfs is not None:
        opts["rootfs"] = rootfs
    if skip_phases is not None:
        opts["skip_phases"] = list(skip_phases)
    wf = workflows.get(workflow)
    ctx = build_context(workflow, opts, reporter)
    started, digest = time.time(), journal.config_digest(ctx.cfg)
    try:
        skip = ctx.opts.get("skip_phases") or wf.skip_phases_from(ctx)
        only = list(phases) if phases is not None else None
        try:
            report = runner.execute(
                workflow, wf.phases(), ctx, only=only, skip=skip, reporter=reporter, dry_run=ctx.dry_run
            )
        except PhaseError as e:
            partial = getattr(e, "report", None)
            if partial is not None:
                _journal(journal.record, ctx, workflow, partial, started, digest)
            raise
        _journal(journal.record, ctx, workflow, report, started, digest)
        if only is None and wf.finish is not None:
            wf.finish(ctx, report)
        report.outputs.update(ctx.state.get("outputs", {}))
        return report
    finally:
        if ctx.fs.sandbox is not None and ctx.opts.get("_sandbox_owned"):
            shutil.rmtree(ctx.fs.sandbox, ignore_errors=True)


def _journal(
    record: Any, ctx: RunContext, workflow: str, report: RunReport, started: float, digest: str
) -> None:
    """Keep the node's run journal; failing to write it must not hide the run's own outcome."""
    try:
        record(ctx.fs, workflow, ctx.cfg, report, started, digest)
    except (OSError, KubeadmError) as e:
        ctx.log(f"[journal] WARNING: could not record this run: {e}")


def phase_paths(workflow: str = "init") -> list[str]:
    """Every phase path of a workflow in execution order (``certs``, ``certs/ca``, ...)."""
    from kubeadm_py import workflows

    return [f.path for f in flatten(list(workflows.get(workflow).phases()))]
