"""The Kubernetes API as an effector: the clients a run uses, built lazily, and the dry-run twin
that records every write (:class:`~kubeadm_py.kube.dryrun.DryRunKubeClient`) and reads from the
real cluster only when the kubeconfig existed before this run and its server answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from kubeadm_py.errors import ApiError

if TYPE_CHECKING:  # the client modules load when a client is built, not with the effectors
    from kubeadm_py.changes import Change
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kube.client import KubeClient, RetryPolicy
    from kubeadm_py.kube.dryrun import DryRunKubeClient

# (server URL, CA bundle PEM or None for an insecure connection, bearer token) -> client
BootstrapFactory = Callable[[str, "bytes | None", "str | None"], "KubeClient"]
# (kubeconfig file on this machine, the host path to show, retry policy) -> client
KubeconfigFactory = Callable[[str, str, "RetryPolicy | None"], "KubeClient"]


# kubeconfig fields naming a file -> the field holding the same data inline (base64 but the token)
FILE_FIELDS = {
    "certificate-authority": "certificate-authority-data",
    "client-certificate": "client-certificate-data",
    "client-key": "client-key-data",
    "tokenFile": "token",
}


def kubeconfig_in_root(fs: HostFS, host_path: str) -> bytes | None:
    """The kubeconfig ``host_path`` read inside the root, with the files it names (client
    certificate, key, CA, token file; relative to its directory) read inside the root too and
    inlined, so no path in it is followed on this machine. None when the file is absent."""
    import base64
    import posixpath

    import yaml

    raw = fs.read_bytes(host_path)
    if raw is None:
        return None
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw  # the client says what is wrong with it
    if not isinstance(doc, dict):
        return raw
    base = posixpath.dirname(host_path)
    for section, inner in (("clusters", "cluster"), ("users", "user")):
        for entry in doc.get(section) or []:
            fields = entry.get(inner) if isinstance(entry, dict) else None
            if not isinstance(fields, dict):
                continue
            for name, inline in FILE_FIELDS.items():
                path = fields.get(name)
                if not isinstance(path, str) or not path or fields.get(inline):
                    continue
                inside = posixpath.join(base, path)
                data = fs.read_bytes(inside)
                if data is None:  # the client reports it missing, by its place inside the root
                    fields[name] = fs.confined_path(inside)
                    continue
                del fields[name]
                token = name == "tokenFile"
                fields[inline] = data.decode().strip() if token else base64.b64encode(data).decode()
    return yaml.safe_dump(doc).encode()


def _in_memory(
    fs: HostFS, host_path: str, factory: KubeconfigFactory, retry: RetryPolicy | None
) -> KubeClient:
    """A client from a kubeconfig read inside the root, handed to ``factory`` as an in-memory
    file (the file is read while the client is built)."""
    from kubeadm_py.rootfs.memfile import memfiles

    data = kubeconfig_in_root(fs, host_path)
    if data is None:
        raise ApiError(
            f"kubeconfig {host_path} not found",
            hint="run 'kubeadm-py init phase kubeconfig admin' first or pass --kubeconfig",
        )
    with memfiles(data) as (path,):
        return factory(path, host_path, retry)


def _from_kubeconfig(path: str, display_path: str, retry: RetryPolicy | None) -> KubeClient:
    from kubeadm_py.kube.client import KubeClient

    return KubeClient.from_kubeconfig(path, display_path=display_path, retry=retry)


def _bootstrap(server: str, ca_pem: bytes | None, token: str | None) -> KubeClient:
    from kubeadm_py.effectors.discovery import client

    c: KubeClient = client(server, ca_pem, token)
    return c


class Api(Protocol):
    def client(self) -> KubeClient:
        """The run's client, from the admin kubeconfig (built once, on first use)."""
        ...

    def from_kubeconfig(self, host_path: str, *, retry: RetryPolicy | None = None) -> KubeClient:
        """Another client from a kubeconfig on the node (e.g. one that fails fast)."""
        ...

    def bootstrap(self, server: str, ca_pem: bytes | None, token: str | None) -> KubeClient:
        """A client for joining: the discovered server and CA, the bootstrap token."""
        ...

    def changes(self) -> list[Change]:
        """Every write the clients built here made (or, in dry-run, would make)."""
        ...


class RealApi:
    def __init__(
        self,
        fs: HostFS,
        kubeconfig: Callable[[], str],
        *,
        retry: RetryPolicy | None = None,
        bootstrap: BootstrapFactory | None = None,
        on_connect: Callable[[KubeClient], None] | None = None,
        from_file: KubeconfigFactory | None = None,
    ) -> None:
        self.fs = fs
        self.kubeconfig = kubeconfig
        self.retry = retry
        self._from_file = from_file or _from_kubeconfig
        self._bootstrap = bootstrap or _bootstrap
        self.on_connect = on_connect  # e.g. init binds admin.conf's group before first use
        self._client: KubeClient | None = None
        self._built: list[KubeClient] = []

    def _keep(self, c: KubeClient) -> KubeClient:
        self._built.append(c)
        return c

    def client(self) -> KubeClient:
        if self._client is None:
            client = self.from_kubeconfig(self.kubeconfig(), retry=self.retry)
            if self.on_connect is not None:
                self.on_connect(client)
            self._client = client
        return self._client

    def from_kubeconfig(self, host_path: str, *, retry: RetryPolicy | None = None) -> KubeClient:
        return self._keep(_in_memory(self.fs, host_path, self._from_file, retry))

    def bootstrap(self, server: str, ca_pem: bytes | None, token: str | None) -> KubeClient:
        return self._keep(self._bootstrap(server, ca_pem, token))

    def changes(self) -> list[Change]:
        return [c for client in self._built for c in client.changes]


class DryRunApi:
    def __init__(
        self,
        fs: HostFS,
        kubeconfig: Callable[[], str],
        node_name: Callable[[], str],
        *,
        probe_retry: RetryPolicy | None = None,
        bootstrap: BootstrapFactory | None = None,
        on_connect: Callable[[KubeClient], None] | None = None,
        from_file: KubeconfigFactory | None = None,
    ) -> None:
        self.on_connect = on_connect
        self._from_file = from_file or _from_kubeconfig
        self.fs = fs
        self.kubeconfig = kubeconfig
        self.node_name = node_name
        self.probe_retry = probe_retry
        self._bootstrap = bootstrap or _bootstrap
        self._client: DryRunKubeClient | None = None
        self._built: list[KubeClient] = []

    def _twin(self, real: KubeClient | None) -> DryRunKubeClient:
        node = self.node_name()
        from kubeadm_py.kube.dryrun import DryRunKubeClient, canned_node

        twin = DryRunKubeClient(real, [canned_node(node)] if node else [])
        self._built.append(twin)
        return twin

    def _real(self, host_path: str) -> KubeClient | None:
        """A real client for reads, when the kubeconfig was on the node before this run."""
        if self.fs.in_overlay(host_path) or not self.fs.exists(host_path):
            return None  # written by this dry run (no cluster yet) or absent
        try:
            from kubeadm_py.kube.client import RetryPolicy

            retry = self.probe_retry or RetryPolicy(attempts=1)
            return _in_memory(self.fs, host_path, self._from_file, retry)
        except ApiError:
            return None

    def client(self) -> KubeClient:
        if self._client is None:
            client = self._twin(self._real(self.kubeconfig()))
            if self.on_connect is not None:
                self.on_connect(client)
            self._client = client
        return self._client

    def from_kubeconfig(self, host_path: str, *, retry: RetryPolicy | None = None) -> KubeClient:
        return self._twin(self._real(host_path))

    def bootstrap(self, server: str, ca_pem: bytes | None, token: str | None) -> KubeClient:
        return self._twin(self._bootstrap(server, ca_pem, token))

    def changes(self) -> list[Change]:
        return [c for client in self._built for c in client.changes]
