"""The set of effectors a run context holds, and how a run builds it: the real effectors (or an
embedding program's replacements, :class:`Hooks`), each wrapped in its dry-run twin for a dry run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.effectors.api import Api, BootstrapFactory, DryRunApi, KubeconfigFactory, RealApi
from kubeadm_py.effectors.commands import Commands, DryRunCommands, HostCommands
from kubeadm_py.effectors.cri import CriFactory, dry_run_cri_factory, host_cri_factory
from kubeadm_py.effectors.etcd import EtcdFactory, dry_run_etcd_factory, node_etcd_factory
from kubeadm_py.effectors.mounts import DryRunMounts, HostMounts, Mounts
from kubeadm_py.effectors.prompt import AssumeYes, Prompt, StdinPrompt
from kubeadm_py.effectors.services import DryRunServices, Services, SystemdServices
from kubeadm_py.effectors.stops import DryRunStops, RaiseStops, Stops
from kubeadm_py.effectors.waiting import DryRunWaiter, Waiter

if TYPE_CHECKING:  # types only: the implementations behind them load when first used
    from kubeadm_py.effectors.discovery import Fetcher
    from kubeadm_py.host.probe import SystemProbe
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kube.client import KubeClient

Log = Callable[[str], None]


@dataclass
class Effectors:
    fs: HostFS
    api: Api
    services: Services
    mounts: Mounts
    commands: Commands
    waiter: Waiter
    prompt: Prompt
    etcd: EtcdFactory
    cri: CriFactory
    # Read-only seams: the host facts preflight checks read, the cluster-info fetcher of discovery.
    probe: SystemProbe
    discovery_fetcher: Fetcher | None = None
    # Where a real run stops and a dry run only reports (preflight's fatal errors).
    stops: Stops = field(default_factory=RaiseStops)
    dry_run: bool = field(default=False)  # for the report only; phases never read it

    def changes(self) -> list[Change]:
        """Every change recorded so far (files, then API objects, then what the run waited for)."""
        return list(self.fs.changes) + self.api.changes() + list(self.waiter.records)


@dataclass
class Hooks:
    """Replacements for the real effectors, for embedding programs and tests (``api.run(hooks=...)``).
    A dry run still wraps each in its twin, so a replacement never has to know about dry runs."""

    services: Services | None = None
    mounts: Mounts | None = None
    commands: Commands | None = None
    waiter: Waiter | None = None
    prompt: Prompt | None = None
    etcd: EtcdFactory | None = None
    cri: CriFactory | None = None
    probe: SystemProbe | None = None
    bootstrap: BootstrapFactory | None = None
    discovery_fetcher: Fetcher | None = None
    # Builds the API client for a kubeconfig file (admin.conf, kubelet.conf...): an in-memory
    # API server in tests, a different transport in an embedding program.
    kubeconfig_client: KubeconfigFactory | None = None


def build(
    fs: HostFS,
    *,
    dry_run: bool,
    log: Log,
    kubeconfig: Callable[[], str],
    node_name: Callable[[], str],
    hooks: Hooks | None = None,
    on_connect: Callable[[KubeClient], None] | None = None,
) -> Effectors:
    """``on_connect`` is called with the run's API client before its first use (init binds
    admin.conf's group to cluster-admin there)."""
    h = hooks or Hooks()
    commands: Commands = h.commands or HostCommands()
    services: Services = h.services or SystemdServices(fs, commands)
    mounts: Mounts = h.mounts or HostMounts()
    if h.probe is not None:
        probe: SystemProbe = h.probe
    else:
        from kubeadm_py.host.probe import RealProbe

        probe = RealProbe(fs)
    cri: CriFactory = h.cri or host_cri_factory
    if not dry_run:
        return Effectors(
            fs=fs,
            api=RealApi(
                fs, kubeconfig, on_connect=on_connect, bootstrap=h.bootstrap, from_file=h.kubeconfig_client
            ),
            services=services,
            mounts=mounts,
            commands=commands,
            waiter=h.waiter or Waiter(),
            prompt=h.prompt or StdinPrompt(),
            etcd=h.etcd or node_etcd_factory(fs, log),
            cri=cri,
            probe=probe,
            discovery_fetcher=h.discovery_fetcher,
        )
    return Effectors(
        fs=fs,
        api=DryRunApi(
            fs,
            kubeconfig,
            node_name,
            on_connect=on_connect,
            bootstrap=h.bootstrap,
            from_file=h.kubeconfig_client,
        ),
        services=DryRunServices(services, log),
        mounts=DryRunMounts(mounts, log),
        commands=DryRunCommands(commands, log),
        waiter=DryRunWaiter(log),
        prompt=AssumeYes(),
        etcd=dry_run_etcd_factory(log),
        cri=dry_run_cri_factory(cri, log),
        probe=probe,
        discovery_fetcher=h.discovery_fetcher,
        stops=DryRunStops(log),
        dry_run=True,
    )
