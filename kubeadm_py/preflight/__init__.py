"""Preflight checks: kubeadm's checks by their upstream names, run against a
:class:`~kubeadm_py.host.probe.SystemProbe`.

- :mod:`.checks`: the check model, :func:`~.checks.run_checks`, ignore semantics, the report;
- :mod:`.system`, :mod:`.files`, :mod:`.sysverify`, :mod:`.etcd`: the checks;
- :mod:`.roles`: which checks run for init, join, join --control-plane and reset;
- :func:`run_preflight`: one call for library users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kubeadm_py.config.types import KubeadmConfig
    from kubeadm_py.host.probe import SystemProbe
    from kubeadm_py.preflight.checks import PreflightReport


def run_preflight(
    role: str,
    cfg: KubeadmConfig | None = None,
    *,
    probe: SystemProbe | None = None,
    ignore: Iterable[str] | str | None = None,
) -> PreflightReport:
    """Run the checks of ``role`` (init, join, join-control-plane, reset; or control-plane, worker)
    and return the report without raising. ``ignore`` is unioned with the config's
    ``ignorePreflightErrors``."""
    from kubeadm_py.host.probe import RealProbe
    from kubeadm_py.preflight.checks import ignore_set, run_checks
    from kubeadm_py.preflight.roles import ROLE_ALIASES, NodeFacts, checks_for_role, facts_from_config

    role = ROLE_ALIASES.get(role, role)
    facts = facts_from_config(cfg, role) if cfg is not None else NodeFacts()
    config_ignore = config_ignore_list(cfg, role) if cfg is not None else []
    return run_checks(checks_for_role(role, facts), probe or RealProbe(), ignore_set(ignore, config_ignore))


def config_ignore_list(cfg: KubeadmConfig, role: str) -> list[str]:
    """``nodeRegistration.ignorePreflightErrors`` (init/join) or ``ignorePreflightErrors`` (reset)."""
    if role == "reset":
        doc = cfg.reset or {}
        return list(doc.get("ignorePreflightErrors") or [])
    owner = (cfg.join if role.startswith("join") else cfg.init) or {}
    return list((owner.get("nodeRegistration") or {}).get("ignorePreflightErrors") or [])
