"""The public Python API for provisioners that embed kubeadm-py.

Typical use::

    from kubeadm_py import api

    cfg = api.load_config("cluster.yaml")                      # load, convert, default, validate
    report = api.run("init", config="cluster.yaml", phases=["certs"], rootfs="/srv/image", dry_run=True)
    for outcome in report.phases:
        print(outcome.path, outcome.status, [c.target for c in outcome.changes])

``run`` returns a :class:`~kubeadm_py.workflow.report.RunReport` (what changed, per phase, with
timings, plus outputs such as the join command parts; a dry run that went past an error where a
real run stops, such as preflight's fatal errors, returns ``ok`` false with ``would_stop`` set) and raises
:class:`~kubeadm_py.errors.KubeadmError` subclasses on failure; a failed phase raises
:class:`~kubeadm_py.errors.PhaseError` whose ``report`` attribute holds the partial report (an
:class:`~kubeadm_py.errors.InternalError`, a subclass, when kubeadm-py itself is at fault).

``hooks`` (:class:`~kubeadm_py.effectors.bundle.Hooks`) replaces effectors: the service manager,
the waiter (cap its timeouts with ``Waiter(max_timeout=...)``), the etcd client factory, the
preflight host probe, discovery's fetcher, the confirmation prompt, and how API clients are built
(``bootstrap`` for join's bootstrap-token client, ``connect`` for clients from kubeconfig files).
A dry run wraps each replacement in its dry-run twin like the real one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.effectors.bundle import Hooks, build
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.options import config_overrides, run_options
from kubeadm_py.phases.context import RunContext, RunState
from kubeadm_py.run_options import RunOptions
from kubeadm_py.workflow import runner
from kubeadm_py.workflow.phase import flatten
from kubeadm_py.workflow.report import NullReporter, Reporter, RunReport

if TYPE_CHECKING:
    from kubeadm_py.verify.model import Report as VerifyReport

__all__ = [
    "load_config",
    "run",
    "phase_paths",
    "build_context",
    "Hooks",
    "RunOptions",
    "RunReport",
    "KubeadmConfig",
    "verify",
    "certs",
    "token",
    "join_endpoint",
]


# What a workflow with closing messages (``Workflow.finish``) says at the end of a dry run instead.
DRY_RUN_FINISHED = (
    "[dryrun] Finished dry-running successfully. The above are the resources that would be created."
)


def would_stop_line(where: str) -> str:
    """The last line of a dry run that went past an error where a real run stops."""
    return f"[dryrun] A real run stops at {where}"


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


def build_context(
    workflow: str,
    options: Mapping[str, Any] | RunOptions,
    reporter: Reporter | None = None,
    *,
    hooks: Hooks | None = None,
    cfg: KubeadmConfig | None = None,
) -> RunContext[Any]:
    """Resolve the configuration and effectors for a workflow run. ``cfg`` replaces loading the
    configuration (an embedding program that built its own). The workflow's input checks
    (``Workflow.validate``) run here, so a bad flag, patch file, validity period or token TTL fails
    before any phase writes. In a dry run the context's files go to an in-memory overlay; the
    caller ends the run with ``ctx.close()`` (key pool)."""
    from kubeadm_py import workflows

    wf = workflows.get(workflow)
    opts = options if isinstance(options, RunOptions) else run_options(options)
    if cfg is None:
        overrides = config_overrides(opts)
        if wf.extra_overrides is not None:
            overrides.update(wf.extra_overrides(opts))
        cfg = load_config(opts.config, kind=wf.config_kind, overrides=overrides)
    dry_run = bool(opts.dry_run)
    fs = HostFS(rootfs=opts.rootfs, dry_run=dry_run)  # a dry run's files stay in memory
    rep = reporter or NullReporter()
    for warning in cfg.warnings:
        rep.message(f"[config] WARNING: {warning}")
    holder: list[RunContext[Any]] = []
    on_connect = None
    if wf.on_connect is not None:
        hook = wf.on_connect

        def on_connect(client: Any) -> None:
            hook(holder[0], client)

    fx = build(
        fs,
        dry_run=dry_run,
        log=rep.message,
        kubeconfig=lambda: holder[0].admin_kubeconfig,
        node_name=lambda: holder[0].cfg.node_name,
        hooks=hooks,
        on_connect=on_connect,
    )
    observe = getattr(rep, "wait_event", None)  # optional: a reporter that shows long waits
    if callable(observe):
        fx.waiter.observer = observe
    from kubeadm_py.pki.keypool import KeyPool

    ctx: RunContext[RunState] = RunContext(
        cfg, fx, wf.new_state(), options=opts, log=rep.message, keys=KeyPool()
    )
    holder.append(ctx)
    try:
        if wf.prepare is not None:
            wf.prepare(ctx)
        for check in wf.validate:  # before any phase writes: a bad input fails with nothing changed
            check(ctx)
    except BaseException:
        ctx.close()
        raise
    return ctx


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
    hooks: Hooks | None = None,
) -> RunReport:
    """Run a workflow, or only the given phase paths (``["certs/ca", "kubeconfig"]``).

    ``options`` takes any flag by name (``{"apiserver-advertise-address": "10.0.0.1"}`` or
    ``{"apiserver_advertise_address": ...}``); an unknown name is an error. Explicit keyword
    arguments win."""
    import time

    from kubeadm_py import journal, workflows
    from kubeadm_py.errors import PhaseError

    opts = run_options(options or {})
    opts.config = config or opts.config
    opts.dry_run = dry_run or bool(opts.dry_run)
    if rootfs is not None:
        opts.rootfs = rootfs
    if skip_phases is not None:
        opts.skip_phases = list(skip_phases)
    wf = workflows.get(workflow)
    ctx = build_context(workflow, opts, reporter, hooks=hooks)
    started, digest = time.time(), journal.config_digest(ctx.cfg)
    try:
        skip = ctx.options.skip_phases or wf.skip_phases_from(ctx)
        only = list(phases) if phases is not None else None
        rep = reporter or NullReporter()
        if not ctx.fx.dry_run:
            rep = journal.BeginningReporter(rep, lambda: _journal(ctx, workflow, None, started, digest))
        try:
            report = runner.execute(
                workflow, wf.phases(), ctx, only=only, skip=skip, reporter=rep, dry_run=ctx.fx.dry_run
            )
        except PhaseError as e:
            if e.report is not None:
                e.report.outputs.update(ctx.outputs.to_dict(ctx.options))
                _journal(ctx, workflow, e.report, started, digest, getattr(e, "traceback_text", None))
            raise
        _journal(ctx, workflow, report, started, digest)
        if report.would_stop is not None:
            # Neither the success banner nor "finished successfully": a real run stops there.
            ctx.outputs.messages.append(would_stop_line(report.would_stop))
        elif only is None and wf.finish is not None:
            if ctx.fx.dry_run:
                ctx.outputs.messages.append(DRY_RUN_FINISHED)
            else:
                wf.finish(ctx, report)
        report.outputs.update(ctx.outputs.to_dict(ctx.options))
        return report
    finally:
        ctx.close()


def _journal(
    ctx: RunContext[Any],
    workflow: str,
    report: RunReport | None,
    started: float,
    digest: str,
    traceback_text: str | None = None,
) -> None:
    """Keep the node's run journal (``report`` None: the run is about to change the node);
    failing to write it must not hide the run's own outcome."""
    from kubeadm_py import journal

    if ctx.fx.dry_run:
        return  # nothing on the node changed
    try:
        if report is None:
            journal.begin(ctx.fs, workflow, ctx.cfg, started, digest)
        else:
            journal.record(ctx.fs, workflow, ctx.cfg, report, started, digest, traceback_text=traceback_text)
    except (OSError, KubeadmError) as e:
        ctx.log(f"[journal] WARNING: could not record this run: {e}")


def phase_paths(workflow: str = "init") -> list[str]:
    """Every phase path of a workflow in execution order (``certs``, ``certs/ca``, ...)."""
    from kubeadm_py import workflows

    return [f.path for f in flatten(list(workflows.get(workflow).phases()))]


def verify(
    scope: str | None = None,
    *,
    workload: bool = False,
    wait: float = 0.0,
    interval: float = 5.0,
    strict: bool = False,
    kubeconfig: str | None = None,
    config: str | None = None,
    rootfs: str | None = None,
    workload_image: str = "",
    dry_run: bool = False,
    options: Mapping[str, Any] | None = None,
    hooks: Hooks | None = None,
    reporter: Reporter | None = None,
) -> VerifyReport:
    """Check the health of this node (``scope="node"``), of the cluster (``"cluster"``) or both
    (``None``: the cluster checks run when the admin kubeconfig is on this node); ``workload`` adds
    a short-lived Pod per Node (scheduling, logs, exec). With ``wait`` seconds, check again every
    ``interval`` until healthy or the deadline. Returns a
    :class:`~kubeadm_py.verify.model.Report`: ``healthy``, ``results`` (name, scope, status,
    detail, problems: one line and a fix each), ``to_dict()``. Only reads, except the workload
    Pods (created and deleted through the API); ``hooks`` replace effectors as for :func:`run`."""
    from kubeadm_py.constants import ADMIN_KUBECONFIG, KUBERNETES_DIR
    from kubeadm_py.verify.checks import verify as run_checks
    from kubeadm_py.verify.env import VerifyEnv

    if scope not in (None, "node", "cluster"):
        raise KubeadmError(f"unknown verify scope {scope!r}", hint="use node or cluster")
    opts = run_options(options or {})
    opts.config = config or opts.config
    if rootfs is not None:
        opts.rootfs = rootfs
    cfg = load_config(opts.config, kind="init", overrides=config_overrides(opts), dynamic_defaults=False)
    path = kubeconfig or opts.kubeconfig or f"{KUBERNETES_DIR}/{ADMIN_KUBECONFIG}"
    fs = HostFS(rootfs=opts.rootfs)
    rep = reporter or NullReporter()
    fx = build(
        fs,
        dry_run=dry_run or bool(opts.dry_run),
        log=rep.message,
        kubeconfig=lambda: path,
        node_name=lambda: "",  # a dry run's client then invents no Node: verify reads the real ones
        hooks=hooks,
    )
    scopes: list[Any] = ["node", "cluster"] if scope is None else [scope]
    notes = []
    if scope is None and not fs.exists(path):
        scopes.remove("cluster")
        notes.append(f"cluster checks not run: no admin kubeconfig at {path} (pass --kubeconfig or --node)")
    if workload:
        scopes.append("workload")
    env = VerifyEnv(fs, fx, cfg, opts, kubeconfig=path, workload_image=workload_image, log=rep.message)
    env.clock = getattr(fx.waiter, "clock", env.clock)  # a test's waiter brings its clock
    report = run_checks(env, scopes, wait=wait, interval=interval, strict=strict)
    report.notes = notes + report.notes
    return report


def certs(
    action: str,
    *,
    name: str = "all",
    config: str | None = None,
    cert_dir: str | None = None,
    kubeconfig_dir: str | None = None,
    reuse_key: bool = False,
    dry_run: bool = False,
    rootfs: str | None = None,
) -> dict[str, Any]:
    """``certs renew NAME`` (``action="renew"``: ``{"changed", "changes"}``, each change's
    ``to_dict()``; a dry run writes nothing) or ``certs check-expiration`` (``"check-expiration"``:
    the ``CertificateExpirationInfo`` document of ``-o json``)."""
    from kubeadm_py.certs.commands import load_config as certs_config
    from kubeadm_py.certs.commands import run_check_expiration, run_renew
    from kubeadm_py.constants import KUBERNETES_DIR

    kdir = kubeconfig_dir or KUBERNETES_DIR
    cfg = certs_config(config, cert_dir)
    if action == "check-expiration":
        return run_check_expiration(HostFS(rootfs=rootfs), cfg, kdir)[1]
    if action != "renew":
        raise KubeadmError(f"unknown certs action {action!r}", hint="use renew or check-expiration")
    fs = HostFS(rootfs=rootfs, dry_run=dry_run)
    changes = run_renew(fs, cfg, name, kdir, reuse_key, lambda _m: None, dry_run)
    return {"changed": any(c.changed for c in changes), "changes": [c.to_dict() for c in changes]}


def token(
    action: str,
    *,
    token: str | None = None,
    ttl: str = "24h0m0s",
    usages: Iterable[str] = ("signing", "authentication"),
    groups: Iterable[str] = ("system:bootstrappers:kubeadm:default-node-token",),
    description: str = "",
    kubeconfig: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """``token create|list|delete`` through the admin kubeconfig: ``"create"`` returns
    ``{"token", "change"}`` (``token`` generated when not given; an existing id is an error),
    ``"list"`` ``{"tokens": [...]}`` (the ``-o json`` documents), ``"delete"`` (``token`` = id or
    full token) ``{"messages"}``."""
    from kubeadm_py.cluster import tokenops as tc

    path = tc.kubeconfig_path(kubeconfig)
    fx = build(HostFS(), dry_run=dry_run, log=lambda _m: None, kubeconfig=lambda: path, node_name=lambda: "")
    if action == "create":
        tok = tc.build_token(token, ttl, list(usages), list(groups), description)
        change = tc.create_token(tc.client_for(path, fx.api), tok)
        return {"token": str(tok.token), "change": change.to_dict()}
    if action == "list":
        return {"tokens": [tc.output_doc(t) for t in tc.list_tokens(tc.client_for(path, fx.api))]}
    if action == "delete" and token:
        return {"messages": tc.delete_tokens(tc.client_for(path, fx.api), tc.token_ids([token]))}
    raise KubeadmError(f"unknown token action {action!r} or no token", hint="use create, list or delete")


def join_endpoint(kubeconfig: str | None = None) -> dict[str, Any]:
    """What a joining node needs besides the token, read from the admin kubeconfig of an
    initialized control plane: ``{"endpoint": "host:port", "ca_cert_hashes": ["sha256:..."]}``."""
    from pathlib import Path

    from kubeadm_py.cluster import tokenops as tc
    from kubeadm_py.cluster.joincommand import from_kubeconfig

    path = tc.kubeconfig_path(kubeconfig)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise KubeadmError(f"cannot read the kubeconfig {path}: {e.strerror or e}") from None
    endpoint, hashes = from_kubeconfig(data, path)
    return {"endpoint": endpoint, "ca_cert_hashes": hashes}
