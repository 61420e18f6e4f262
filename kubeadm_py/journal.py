"""The run journal: what each kubeadm-py run on this node did, kept on the node.

Every non-dry run of a workflow appends one entry to ``/etc/kubernetes/tmp/kubeadm-py-<workflow>.json``
(kubeadm-py version, Kubernetes version, a digest of the effective configuration, start time, per
phase status, timing and the targets it changed, and the error if it failed). It serves two ends:

* an audit trail of what the tool changed on this node and when (never file contents, keys or
  tokens);
* resuming: when an earlier run of the same workflow already changed this node, preflight knows
  that ports held and files present are the node's own control plane, not a conflict, so a rerun
  after a failure continues instead of stopping at its own artifacts.

A run writes its entry twice: ``inProgress`` before its first phase after preflight (:func:`begin`),
so a run killed at any instant (``kill -9``, a power cut) leaves its trace and the rerun resumes,
then complete when it ends (:func:`record` replaces the in-progress entry).

``reset`` removes the journals together with the rest of the node's state."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from typing import Any

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import TMP_DIR
from kubeadm_py.constants import VERSION as __version__
from kubeadm_py.hostfs import HostFS
from kubeadm_py.workflow.report import PhaseOutcome, Reporter, RunReport

JOURNAL_MODE = 0o600
MAX_ENTRIES = 50
WORKFLOWS = ("init", "join")


def journal_path(workflow: str) -> str:
    return f"{TMP_DIR}/kubeadm-py-{workflow}.json"


def config_digest(cfg: KubeadmConfig) -> str:
    """A digest of the effective configuration, without secrets (bootstrap tokens, certificate
    key, discovery token), which init generates afresh when none is given."""
    names = ("cluster", "init", "join", "reset", "upgrade", "kubelet", "kubeproxy")
    docs = {k: _without_secrets(getattr(cfg, k)) for k in names}
    blob = json.dumps(docs, sort_keys=True, default=str).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


_SECRET_KEYS = ("bootstrapTokens", "certificateKey", "token", "tlsBootstrapToken")


def _without_secrets(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _without_secrets(v) for k, v in doc.items() if k not in _SECRET_KEYS}
    if isinstance(doc, list):
        return [_without_secrets(v) for v in doc]
    return doc


def load(fs: HostFS, workflow: str) -> list[dict[str, Any]]:
    """The journal's entries, oldest first; an unreadable journal counts as empty."""
    raw = fs.read_bytes(journal_path(workflow))
    if not raw:
        return []
    try:
        entries = json.loads(raw)
    except ValueError:
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _head(workflow: str, cfg: KubeadmConfig, started: float, digest: str) -> dict[str, Any]:
    return {
        "workflow": workflow,
        "kubeadmPyVersion": __version__,
        "kubernetesVersion": cfg.kubernetes_version,
        "node": cfg.node_name,
        "config": digest,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "run": f"{os.getpid()}@{started:.6f}",  # tells this run's in-progress entry from others
    }


def entry(
    workflow: str, cfg: KubeadmConfig, report: RunReport, started: float, digest: str
) -> dict[str, Any]:
    return {
        **_head(workflow, cfg, started, digest),
        "seconds": round(time.time() - started, 3),
        "ok": report.ok,
        "error": report.error,
        "phases": [
            {
                "phase": p.path,
                "status": p.status,
                "seconds": round(p.seconds, 3),
                "changed": [f"{c.kind}:{c.action}:{c.target}" for c in p.changes if c.changed],
            }
            for p in report.phases
        ],
    }


def record(
    fs: HostFS,
    workflow: str,
    cfg: KubeadmConfig,
    report: RunReport,
    started: float,
    digest: str,
    *,
    traceback_text: str | None = None,
) -> None:
    """Append this run to the node's journal (the caller skips dry runs: nothing on the node
    changes then). ``digest`` is :func:`config_digest` of the configuration as the run started
    (phases may complete it, e.g. join with the cluster's own configuration). ``traceback_text``
    keeps an internal error's traceback for the bug report."""
    if workflow not in WORKFLOWS:
        return
    changed = any(c.changed and c.kind != "note" for p in report.phases for c in p.changes)
    new = entry(workflow, cfg, report, started, digest)
    if report.outputs.get("failures"):
        new["failures"] = report.outputs["failures"]  # why a wait ended early (effectors/watch.py)
    others = [e for e in load(fs, workflow) if e.get("run") != new["run"]]
    if not changed and not others:
        # a run that changed nothing (e.g. a refused join) leaves nothing behind
        if fs.exists(journal_path(workflow)):
            fs.remove(journal_path(workflow))
            fs.changes.pop()
        return
    if traceback_text:
        new["traceback"] = traceback_text
    _write(fs, workflow, others[-(MAX_ENTRIES - 1) :] + [new])


def changed_before(fs: HostFS, workflow: str) -> dict[str, Any] | None:
    """The latest earlier run of ``workflow`` that changed something on this node, or may have
    (it never ended: killed), if any."""
    for e in reversed(load(fs, workflow)):
        if e.get("inProgress") or any(
            p.get("status") == "changed" and p.get("phase") != "preflight" for p in e.get("phases", [])
        ):
            return dict(e)
    return None


def begin(fs: HostFS, workflow: str, cfg: KubeadmConfig, started: float, digest: str) -> None:
    """Record that this run is about to change the node (before its first phase after
    preflight); :func:`record` replaces the entry when the run ends."""
    if workflow not in WORKFLOWS:
        return
    new = {**_head(workflow, cfg, started, digest), "inProgress": True, "ok": None, "phases": []}
    _write(fs, workflow, load(fs, workflow)[-(MAX_ENTRIES - 1) :] + [new])


class BeginningReporter:
    """Passes progress on to ``inner``, and calls ``begin`` once, when the first phase after
    preflight starts (preflight only reads)."""

    def __init__(self, inner: Reporter, begin: Callable[[], None]) -> None:
        self.inner, self._begin = inner, begin

    def phase_started(self, path: str) -> None:
        if path != "preflight" and self._begin is not _done:
            begin, self._begin = self._begin, _done
            begin()
        self.inner.phase_started(path)

    def message(self, text: str) -> None:
        self.inner.message(text)

    def phase_finished(self, outcome: PhaseOutcome) -> None:
        self.inner.phase_finished(outcome)


def _done() -> None:
    return None


def _write(fs: HostFS, workflow: str, entries: list[dict[str, Any]]) -> None:
    fs.write(journal_path(workflow), (json.dumps(entries, indent=1) + "\n").encode(), JOURNAL_MODE)
    fs.changes.pop()  # bookkeeping, not a change the run made
