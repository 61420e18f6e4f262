"""etcd membership as an effector: the interface phases use, the real factory (the node's etcd
client certificates) and the dry-run twin, which contacts no etcd and records what it would do."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the etcd client loads when a client is built
    from pathlib import Path

    from kubeadm_py.etcd.client import EndpointStatus, Member
    from kubeadm_py.etcd.snapshot import SnapshotFacts
    from kubeadm_py.hostfs import HostFS


class EtcdMembership(Protocol):
    timeout: float

    def members(self) -> list[Member]: ...

    def member_by_peer_url(self, peer_url: str) -> Member | None: ...

    def add_member(self, name: str, peer_url: str, learner: bool = False) -> list[Member]: ...

    def promote(self, member_id: int) -> None: ...

    def remove_member(self, member_id: int) -> None: ...

    def wait_healthy(self, timeout: float) -> None: ...

    def endpoint_status(self) -> list[EndpointStatus]:
        """Per endpoint: the member answering, its leader, and why it is unhealthy (read-only)."""
        ...

    def save_snapshot(self, dest: Path) -> SnapshotFacts | None: ...


# (client URLs of existing members, certificates directory) -> a client.
EtcdFactory = Callable[[list[str], str], EtcdMembership]


def node_etcd_factory(fs: HostFS, log: Callable[[str], None], timeout: float | None = None) -> EtcdFactory:
    """Clients with the node's etcd client certificate pair, read through ``fs``."""

    def make(endpoints: list[str], cert_dir: str) -> EtcdMembership:
        from kubeadm_py.etcd.client import EtcdClient

        client = EtcdClient.for_node(fs, cert_dir, endpoints)
        client.log = log
        if timeout is not None:
            client.timeout = timeout
        return client

    return make


class DryRunEtcd:
    """Knows no member; adding, promoting and removing are only logged."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.timeout = 0.0
        self.added: list[Member] = []

    def members(self) -> list[Member]:
        return list(self.added)

    def member_by_peer_url(self, peer_url: str) -> Member | None:
        return next((m for m in self.added if peer_url in m.peer_urls), None)

    def add_member(self, name: str, peer_url: str, learner: bool = False) -> list[Member]:
        self.log(f"[dryrun] Would add etcd member {peer_url}{' as a learner' if learner else ''}")
        from kubeadm_py.etcd.client import Member

        self.added.append(Member(0, name, [peer_url], [], learner))
        return list(self.added)

    def promote(self, member_id: int) -> None:
        self.log("[dryrun] Would promote the learner to a voting member")

    def remove_member(self, member_id: int) -> None:
        self.log(f"[dryrun] Would remove etcd member {member_id:x}")

    def wait_healthy(self, timeout: float) -> None:
        self.log("[dryrun] Would wait for the etcd cluster to be healthy")

    def endpoint_status(self) -> list[EndpointStatus]:
        return []  # contacts no etcd

    def save_snapshot(self, dest: Path) -> SnapshotFacts | None:
        self.log(f"[dryrun] Would save an etcd snapshot to {dest}")
        return None


def dry_run_etcd_factory(log: Callable[[str], None]) -> EtcdFactory:
    def make(endpoints: list[str], cert_dir: str) -> EtcdMembership:
        return DryRunEtcd(log)

    return make
