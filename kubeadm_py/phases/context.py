"""The typed context a phase runs with.

``RunContext[S]`` holds the defaulted configuration (``cfg``), the typed run options
(``options``, generated from the flag registry), the effectors (``fx``: every side effect goes
through them, each swapped for its dry-run twin in a dry run), the run's outputs (``outputs``) and
a per-workflow state object ``state`` of type ``S`` (init, join, reset, upgrade each define one)
through which a phase hands values to later phases of the same run.

A phase declares the context it needs: ``Phase[RunContext[JoinState]]`` runs only in a workflow
whose state is a ``JoinState``; a phase shared by several workflows asks for
``RunContext[RunState]`` (the base every state extends). ``RunContext`` is covariant in ``S``
(``state`` is read-only), so mypy rejects a join phase placed in init, and accepts a shared phase
anywhere.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

from kubeadm_py.constants import KUBELET_DIR, KUBERNETES_DIR, MANIFESTS_DIR
from kubeadm_py.run_options import RunOptions

if TYPE_CHECKING:  # only types: building the phase tree (any --help) must not load the effectors
    from kubeadm_py.config.types import KubeadmConfig
    from kubeadm_py.effectors.bundle import Effectors
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.patches import PatchSet
    from kubeadm_py.pki.keypool import KeyPool
    from kubeadm_py.pki.manager import Settings
    from kubeadm_py.preflight.checks import PreflightReport


def _no_log(msg: str) -> None:
    return None


@dataclass
class RunState:
    """What the phases of every workflow keep for later phases of the same run."""

    preflight_report: PreflightReport | None = None
    pki_settings: Settings | None = None  # computed once (validity start) for every certificate
    patchsets: dict[str, PatchSet] = field(default_factory=dict)  # by directory


@dataclass
class ManualStep:
    what: str
    command: str

    def to_dict(self) -> dict[str, str]:
        return {"what": self.what, "command": self.command}


@dataclass
class Outputs:
    """What a run hands back to its caller (``report.outputs``; ``-o json`` prints it). A field left
    at None is not part of the report."""

    # init: the join command and its parts
    endpoint: str | None = None
    token: str | None = None
    ca_cert_hash: str | None = None
    ca_cert_hashes: list[str] | None = None
    certificate_key: str | None = None
    join_command: str | None = None
    join_control_plane_command: str | None = None
    # join
    api_server: str | None = None
    # upgrade
    version: str | None = None
    previous_version: str | None = None
    upgraded: list[str] | None = None
    unchanged: list[str] | None = None
    backup_dir: str | None = None
    # a control-plane wait that ended early: per component, state, exit code, restarts, log tail
    failures: list[dict[str, Any]] | None = None
    etcd_snapshot: str | None = None  # the snapshot taken before etcd was touched
    ca_rotation: dict[str, Any] | None = None  # certs rotate-ca status: the stage and every node's progress
    # every workflow: closing messages and what the operator must do by hand
    messages: list[str] = field(default_factory=list)
    manual_cleanup: list[ManualStep] = field(default_factory=list)

    def manual(self, what: str, command: str) -> None:
        self.manual_cleanup.append(ManualStep(what, command))

    def to_dict(self, options: RunOptions | None = None) -> dict[str, Any]:
        """The report's ``outputs``. A secret whose skip flag is set in ``options`` is withheld
        everywhere in it (its own field, the join commands, messages): the one place where
        ``-o json|yaml`` and the Python API honour ``--skip-token-print`` and
        ``--skip-certificate-key-print``."""
        hidden = [
            value
            for name, flag in SECRET_OUTPUTS
            if (value := getattr(self, name)) and options is not None and getattr(options, flag)
        ]
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == []:
                continue
            value = [v.to_dict() for v in value] if f.name == "manual_cleanup" else value
            out[f.name] = _withhold(value, hidden)
        return out


# The secrets a run may output, and the option that withholds each.
SECRET_OUTPUTS = (("token", "skip_token_print"), ("certificate_key", "skip_certificate_key_print"))


def _withhold(value: Any, secrets: list[str]) -> Any:
    from kubeadm_py.cluster.joincommand import WITHHELD

    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, WITHHELD)
        return value
    if isinstance(value, list):
        return [_withhold(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _withhold(v, secrets) for k, v in value.items()}
    return value


S = TypeVar("S", bound=RunState, covariant=True)


class RunContext(Generic[S]):
    """See the module documentation."""

    def __init__(
        self,
        cfg: KubeadmConfig,
        fx: Effectors,
        state: S,
        *,
        options: RunOptions | None = None,
        log: Any = _no_log,
        stdout: IO[str] | None = None,
        keys: KeyPool | None = None,
    ) -> None:
        self.cfg = cfg
        self.fx = fx
        self._state = state
        self.options = options or RunOptions()
        self.outputs = Outputs()
        self.log = log
        self.stdout: IO[str] = stdout or sys.stdout
        # The run's key pool: RSA keys generated ahead in threads (closed by close()).
        self.keys = keys

    def close(self) -> None:
        """End the run's resources: stop key generation, make writes durable (a dry run's
        overlay is memory: nothing to remove)."""
        if self.keys is not None:
            self.keys.close()
        self.fs.close()

    @property
    def state(self) -> S:
        return self._state

    # Shorthands for the effectors phases use most.
    @property
    def fs(self) -> HostFS:
        return self.fx.fs

    def kube(self) -> KubeClient:
        """The Kubernetes client of this run (built on first use: admin.conf may be written by an
        earlier phase of the same run)."""
        return self.fx.api.client()

    # Host directories, honouring flags that move them.
    @property
    def cert_dir(self) -> str:
        return self.cfg.cert_dir

    @property
    def kubeconfig_dir(self) -> str:
        return self.options.kubeconfig_dir or KUBERNETES_DIR

    @property
    def manifests_dir(self) -> str:
        return MANIFESTS_DIR

    @property
    def kubelet_dir(self) -> str:
        return KUBELET_DIR

    @property
    def admin_kubeconfig(self) -> str:
        return self.options.kubeconfig or f"{KUBERNETES_DIR}/admin.conf"


# The context of a phase every workflow can run.
AnyContext = RunContext[RunState]
