# Copyright: kubeadm-py contributors
# Apache License 2.0 (see the LICENSE of kubeadm-py)
"""Shared by the kubeadm_py.cluster modules: run kubeadm-py through ``kubeadm_py.api`` on the
target and turn its run report into module results.

The mapping is a pure function of the report's ``to_dict()`` form (``result_from_report``), so it
is tested without Ansible or a host. Ansible's check mode is kubeadm-py's dry run; diff mode shows
one entry per file the run writes (the planned content in a dry run, where kubeadm-py has it).
Secrets given as parameters (token, certificate key) are no_log parameters: Ansible scrubs their
values from the results."""

from __future__ import annotations

import os
import sys
import traceback

# Arguments every workflow module takes (Ansible argument_spec form).
COMMON_ARGS = {
    "config": {"type": "path"},
    "rootfs": {"type": "path"},
    "options": {"type": "dict", "default": {}},
    "phases": {"type": "list", "elements": "str"},
    "skip_phases": {"type": "list", "elements": "str"},
    "ignore_preflight_errors": {"type": "list", "elements": "str", "default": []},
}

# The host files that say a workflow already ran (relative to the rootfs): (workflow, paths).
DONE_MARKERS = {
    "init": ("/etc/kubernetes/admin.conf", "/etc/kubernetes/manifests/kube-apiserver.yaml"),
    "join": ("/etc/kubernetes/kubelet.conf",),
}
# What reset removes: a node with none of these has nothing to reset.
RESET_MARKERS = (
    "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/admin.conf",
    "/etc/kubernetes/manifests",
    "/etc/kubernetes/pki",
    "/var/lib/etcd/member",
    "/var/lib/kubelet/config.yaml",
)
DIFF_MAX_BYTES = 65536


def host_path(rootfs, path):
    return os.path.join(rootfs, path.lstrip("/")) if rootfs else path


def already_done(workflow, rootfs=None):
    """True when every marker file of ``workflow`` exists on the host."""
    markers = DONE_MARKERS.get(workflow)
    return bool(markers) and all(os.path.exists(host_path(rootfs, p)) for p in markers)


def nothing_to_reset(rootfs=None):
    return not any(os.path.lexists(host_path(rootfs, p)) for p in RESET_MARKERS)


def _read_before(path, rootfs):
    if path.endswith(".key"):
        return "(private key: not shown)\n"
    try:
        with open(host_path(rootfs, path), encoding="utf-8") as f:
            return f.read(DIFF_MAX_BYTES)
    except (OSError, UnicodeDecodeError):
        return ""


def diff_from_report(report, rootfs=None):
    """Ansible diff entries (before/after per file) for every file the run writes or deletes."""
    out = []
    for phase in report.get("phases", []):
        for c in phase.get("changes", []):
            if c.get("kind") != "file" or c.get("action") == "unchanged":
                continue
            action, target = c["action"], c["target"]
            before = "" if action == "create" else _read_before(target, rootfs)
            if action == "delete":
                after = ""
            elif c.get("content") is not None:
                after = c["content"]
            else:
                after = f"({action} {target}: {c.get('detail') or 'content not shown'})\n"
            header = f"{target} ({action}, phase {phase['phase']})"
            out.append({"before_header": target, "after_header": header, "before": before, "after": after})
    return out


def phase_statuses(report):
    return {p["phase"]: p["status"] for p in report.get("phases", [])}


def result_from_report(report, rootfs=None, want_diff=False):
    """Module results from a run report's ``to_dict(with_content=True)``: ``changed`` is what the
    run changed or, in check mode (a dry run), would change."""
    phases = [{k: v for k, v in p.items() if k != "changes"} for p in report.get("phases", [])]
    for p, full in zip(phases, report.get("phases", []), strict=False):
        p["changes"] = [{k: v for k, v in c.items() if k != "content"} for c in full.get("changes", [])]
    result = {
        "changed": bool(report.get("changed") or report.get("wouldChange")),
        "workflow": report.get("workflow"),
        "dry_run": bool(report.get("dryRun")),
        "ok": bool(report.get("ok", True)),
        "would_stop": report.get("wouldStop"),
        "phases": phases,
        "statuses": phase_statuses(report),
        "outputs": report.get("outputs", {}),
    }
    if want_diff:
        result["diff"] = diff_from_report(report, rootfs)
    return result


def unchanged_result(workflow, why, outputs=None):
    """The result of a workflow the module did not run because the host is already there."""
    return {
        "changed": False,
        "workflow": workflow,
        "dry_run": False,
        "ok": True,
        "would_stop": None,
        "phases": [],
        "statuses": {},
        "outputs": outputs or {},
        "skipped_reason": why,
    }


def import_api(module):
    """``kubeadm_py.api`` on the target, or a one-line failure saying how to get it."""
    try:
        from kubeadm_py import api
    except ImportError as e:
        module.fail_json(
            msg=f"kubeadm-py is not importable by {sys.executable} on this host ({e}): install it with the "
            "role kubeadm_py.cluster.install or point ansible_python_interpreter at its Python"
        )
    return api


def run_options(params, extra=None):
    """The ``options`` mapping of ``api.run`` from the common module parameters."""
    opts = dict(params.get("options") or {})
    if params.get("ignore_preflight_errors"):
        opts["ignore-preflight-errors"] = list(params["ignore_preflight_errors"])
    for k, v in (extra or {}).items():
        if v is not None:
            opts[k] = v
    return opts


def fail_from_error(module, err, what):
    """A kubeadm-py error as a one-line failure; a partial report (what ran before) is kept."""
    report = getattr(err, "report", None)
    extra = {}
    if report is not None:
        extra = result_from_report(report.to_dict(), module.params.get("rootfs"))
        extra.pop("changed", None)
    msg = f"{what} failed: {err}"
    hint = getattr(err, "hint", None)
    if hint and hint not in msg:
        msg += f" ({hint})"
    module.fail_json(msg=msg, changed=bool(report is not None and report.changed), **extra)


def run_workflow(module, workflow, extra_options=None):
    """Run ``workflow`` with the module's common parameters and exit with its results."""
    api = import_api(module)
    from kubeadm_py.errors import KubeadmError

    p = module.params
    try:
        report = api.run(
            workflow,
            config=p.get("config"),
            phases=p.get("phases"),
            skip_phases=p.get("skip_phases"),
            dry_run=module.check_mode,
            rootfs=p.get("rootfs"),
            options=run_options(p, extra_options),
        )
    except KubeadmError as e:
        fail_from_error(module, e, "kubeadm-py " + workflow)
    except Exception as e:  # kubeadm-py itself is at fault: keep the traceback for the bug report
        module.fail_json(msg=f"kubeadm-py {workflow} failed: {e}", exception=traceback.format_exc())
    result = result_from_report(report.to_dict(with_content=True), p.get("rootfs"), module._diff)
    if not result["ok"]:
        module.fail_json(msg="a real run stops at {}".format(result["would_stop"]), **result)
    return result
