"""The container runtime's CRI: :class:`CriClient`, the package's one CRI gRPC client (runtime
status, the pod sandboxes reset removes, image status and pulls, the containers a control-plane
wait watches), with the ``runtime.v1`` messages generated from the CRI API's own ``api.proto``
(:mod:`kubeadm_py.host.criapi`, built by ``setup.py``), and how deep preflight can ask whether the
runtime answers.

Depth of the preflight ``CRI`` check, best first:

0. grpcio installed (a dependency of kubeadm-py): the real ``runtime.v1.RuntimeService/Status``
   gRPC call on the socket (:meth:`CriClient.status`); the check fails on an RPC error (e.g.
   ``code = Unimplemented desc = unknown service runtime.v1.RuntimeService`` when the runtime has
   CRI disabled) or when ``RuntimeReady`` is false.
1. ``crictl`` in PATH: ``crictl --runtime-endpoint <ep> --timeout 5s info`` performs the real
   ``runtime.v1.RuntimeService/Status`` gRPC call; like kubeadm's ``IsRunning`` the check fails when
   the call fails or the ``RuntimeReady`` condition is false (``NetworkReady`` is ignored on
   purpose: no CNI plugin exists before the cluster does).
2. No ``crictl``: connect to the unix socket and do an HTTP/2 handshake (client preface plus an
   empty SETTINGS frame; a gRPC server answers with its own SETTINGS frame). That proves a gRPC
   server listens, not that it implements the CRI, and the result says so.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubeadm_py.changes import Change

if TYPE_CHECKING:  # generated at build time (setup.py); imported on the first call (_api)
    from google.protobuf.message import Message

    from kubeadm_py.host.criapi import api_pb2

# kubeadm's known runtime endpoints (cmd/kubeadm/app/constants/constants_unix.go), detection order.
KNOWN_CRI_SOCKETS = (
    "unix:///var/run/containerd/containerd.sock",
    "unix:///var/run/crio/crio.sock",
    "unix:///var/run/cri-dockerd.sock",
)
DEFAULT_CRI_SOCKET = KNOWN_CRI_SOCKETS[0]

HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # length 0, type SETTINGS, flags 0, stream 0
_SETTINGS = 0x4


@dataclass(frozen=True)
class CriStatus:
    ok: bool
    message: str
    depth: str  # "status-call" (real CRI Status RPC) or "http2-handshake"


def socket_path(endpoint: str) -> str:
    """``unix:///run/x.sock`` or ``/run/x.sock`` -> ``/run/x.sock``."""
    if endpoint.startswith("unix://"):
        return endpoint[len("unix://") :]
    return endpoint


def endpoint_url(endpoint: str) -> str:
    return endpoint if "://" in endpoint else f"unix://{endpoint}"


RunFn = Callable[[Sequence[str], float], "tuple[int, str, str]"]


def status_via_crictl(crictl: str, endpoint: str, run: RunFn, timeout: float = 10.0) -> CriStatus:
    rc, out, err = run(
        [crictl, "--runtime-endpoint", endpoint_url(endpoint), "--timeout", "5s", "info", "-o", "json"],
        timeout,
    )
    if rc != 0:
        msg = (err or out).strip().splitlines()
        return CriStatus(
            False,
            f"container runtime is not running: {msg[-1] if msg else f'crictl exit {rc}'}",
            "status-call",
        )
    try:
        info = json.loads(out)
    except ValueError:
        return CriStatus(
            False, "container runtime is not running: crictl info printed no JSON", "status-call"
        )
    for cond in (info.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "RuntimeReady" and not cond.get("status"):
            return CriStatus(
                False,
                f'container runtime condition "RuntimeReady" is not true. reason: {cond.get("reason", "")}, '
                f"message: {cond.get('message', '')}",
                "status-call",
            )
    return CriStatus(True, f"RuntimeService/Status on {endpoint_url(endpoint)}: RuntimeReady", "status-call")


def _go_code(name: str) -> str:
    return "".join(p.title() for p in name.split("_"))  # DEADLINE_EXCEEDED -> DeadlineExceeded


def _rpc_message(e: Exception) -> str:
    """A grpc error as Go's grpc prints it: ``rpc error: code = X desc = Y``."""
    code = e.code() if hasattr(e, "code") else None
    details = e.details() if hasattr(e, "details") else str(e)
    return f"rpc error: code = {_go_code(code.name) if code else 'Unknown'} desc = {details}"


def status_via_grpc(endpoint: str, timeout: float = 10.0) -> CriStatus:
    """RuntimeService/Status through :class:`CriClient` (ImportError without grpcio)."""
    import grpc  # noqa: F401 - the caller falls back to crictl without grpcio

    with CriClient(endpoint, timeout=timeout) as client:
        return client.status()


def status_via_http2(endpoint: str, timeout: float = 3.0) -> CriStatus:
    path = socket_path(endpoint)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        try:
            s.connect(path)
        except OSError as e:
            return CriStatus(
                False,
                f"container runtime is not running: cannot connect to {path}: {e.strerror or e}",
                "http2-handshake",
            )
        s.sendall(HTTP2_PREFACE + _EMPTY_SETTINGS)
        header = b""
        while len(header) < 9:
            chunk = s.recv(9 - len(header))
            if not chunk:
                break
            header += chunk
    except OSError as e:
        return CriStatus(
            False, f"container runtime is not running: {path}: {e.strerror or e}", "http2-handshake"
        )
    finally:
        s.close()
    if len(header) == 9 and header[3] == _SETTINGS:
        return CriStatus(
            True,
            f"{path} answers HTTP/2 (gRPC server); CRI Status not called: crictl not found",
            "http2-handshake",
        )
    return CriStatus(
        False, f"container runtime is not running: {path} does not speak HTTP/2/gRPC", "http2-handshake"
    )


def sandbox_image(info: Mapping[str, str]) -> str:
    """The runtime's sandbox (pause) image from ``info["config"]`` (JSON with ``sandboxImage``, as
    containerd reports it); "" when the runtime does not say."""
    try:
        return str((json.loads(info.get("config") or "{}") or {}).get("sandboxImage") or "")
    except (ValueError, AttributeError):
        return ""


class CriError(Exception):
    """A CRI call failed; the message is Go-style: ``rpc error: code = X desc = Y``."""


class CriNotRunning(CriError):
    """Nothing listens on the runtime's socket (it does not exist)."""


@dataclass(frozen=True)
class CriImage:
    """What ``ImageStatus`` says of an image the runtime has."""

    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    size: int = 0


@dataclass(frozen=True)
class Sandbox:
    """A pod sandbox (``PodSandbox``: id, metadata name and namespace, state, creation time in
    seconds since the epoch)."""

    id: str
    name: str
    namespace: str
    ready: bool
    created_at: float = 0.0

    @property
    def label(self) -> str:
        who = f"{self.namespace}/{self.name}" if self.namespace else self.name or "?"
        return f"pod {who} (sandbox {self.id[:13]})"


@dataclass(frozen=True)
class Pulled:
    """The outcome of a pull: the image reference the runtime reports (``sha256:...``); ``ran``
    is False when a dry run only recorded the pull."""

    image: str
    ref: str = ""
    ran: bool = True


# The labels the kubelet puts on every container it creates (pkg/kubelet/types/labels.go).
POD_NAME_LABEL = "io.kubernetes.pod.name"
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
CONTAINER_NAME_LABEL = "io.kubernetes.container.name"
# ContainerState names, lower case (runtime.v1 enum ContainerState).
CONTAINER_STATES = {0: "created", 1: "running", 2: "exited", 3: "unknown"}


@dataclass(frozen=True)
class ContainerInfo:
    """One container as the runtime reports it (``Container``, then ``ContainerStatus`` for the
    exit code, reason and log path). ``attempt`` is the kubelet's restart count for the container
    name in its pod; times are seconds since the epoch (0: not yet). ``sandbox_id``: the pod sandbox
    it runs in ("" from ``ContainerStatus``, which does not say)."""

    id: str
    name: str
    pod: str
    namespace: str
    state: str
    attempt: int
    created_at: float
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    log_path: str = ""
    finished_at: float = 0.0
    sandbox_id: str = ""


def _api() -> Any:
    """The generated ``runtime.v1`` module (an ``ImportError`` names the build step when missing)."""
    try:
        from kubeadm_py.host.criapi import api_pb2
    except ImportError as e:  # a checkout used without install: setup.py generates the module
        raise ImportError(
            f"{e}: the CRI stubs are generated when kubeadm-py is installed (./install.sh, pip install .)"
        ) from None
    return api_pb2


def _seconds(nanoseconds: int) -> float:
    return nanoseconds / 1e9 if nanoseconds > 0 else 0.0


def _container(c: api_pb2.Container | api_pb2.ContainerStatus, **status: Any) -> ContainerInfo:
    """A ``Container`` (ListContainers) or a ``ContainerStatus`` with its ``status`` fields."""
    labels = dict(c.labels)
    return ContainerInfo(
        id=c.id,
        name=labels.get(CONTAINER_NAME_LABEL) or c.metadata.name,
        pod=labels.get(POD_NAME_LABEL, ""),
        namespace=labels.get(POD_NAMESPACE_LABEL, ""),
        state=CONTAINER_STATES.get(c.state, "unknown"),
        attempt=c.metadata.attempt,
        created_at=_seconds(c.created_at),
        sandbox_id=str(getattr(c, "pod_sandbox_id", "")),
        **status,
    )


class CriClient:
    """The container runtime's CRI on ``endpoint`` over gRPC (grpcio), the one client of the
    package: RuntimeService Status, the pod sandboxes reset removes and the containers a wait
    watches, ImageService ImageStatus and PullImage. Messages are the generated ``runtime.v1``
    classes; each method's path and its response type come from the service descriptor. One
    channel; use as a context manager or call :meth:`close`. ``timeout`` bounds every call but a
    pull (upstream's 2 s CRI default is short for a busy runtime), ``pull_timeout`` one PullImage.
    Failures raise :class:`CriError` (:class:`CriNotRunning` when the socket does not exist)."""

    def __init__(self, endpoint: str, timeout: float = 10.0, pull_timeout: float = 600.0) -> None:
        self.endpoint = endpoint_url(endpoint)
        self.timeout = timeout
        self.pull_timeout = pull_timeout
        self._channel: Any = None

    def __enter__(self) -> CriClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def connect(self) -> None:
        """Fail early (CriNotRunning) when nothing listens on the socket."""
        path = socket_path(self.endpoint)
        if self.endpoint.startswith("unix://") and not os.path.exists(path):
            raise CriNotRunning(f"container runtime is not running: {path} does not exist")

    def _call(self, service: str, method: str, request: Message, timeout: float | None = None) -> Any:
        """``runtime.v1.<service>/<method>`` with ``request``; the decoded response message."""
        import grpc
        from google.protobuf import message_factory

        self.connect()
        desc = _api().DESCRIPTOR.services_by_name[service].methods_by_name[method]
        if self._channel is None:
            self._channel = grpc.insecure_channel(self.endpoint)
        call = self._channel.unary_unary(
            f"/{desc.containing_service.full_name}/{desc.name}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=message_factory.GetMessageClass(desc.output_type).FromString,
        )
        try:
            return call(request, timeout=self.timeout if timeout is None else timeout)
        except grpc.RpcError as e:
            raise CriError(_rpc_message(e)) from None

    # RuntimeService
    def _status(self, verbose: bool) -> api_pb2.StatusResponse:
        reply: api_pb2.StatusResponse = self._call(
            "RuntimeService", "Status", _api().StatusRequest(verbose=verbose)
        )
        return reply

    def status(self) -> CriStatus:
        """Like kubeadm's ``IsRunning``: the call succeeds and ``RuntimeReady`` is true."""
        try:
            reply = self._status(False)
        except CriNotRunning as e:
            return CriStatus(False, str(e), "status-call")
        except CriError as e:
            return CriStatus(False, f"container runtime is not running: {e}", "status-call")
        for c in reply.status.conditions:
            if c.type == "RuntimeReady" and not c.status:
                return CriStatus(
                    False,
                    f'container runtime condition "RuntimeReady" is not true. reason: '
                    f"{c.reason}, message: {c.message}",
                    "status-call",
                )
        return CriStatus(True, f"RuntimeService/Status on {self.endpoint}: RuntimeReady", "status-call")

    def sandbox_image(self) -> str:
        """The runtime's sandbox (pause) image (verbose Status); "" when it does not say."""
        return sandbox_image(self._status(True).info)

    def list_sandboxes(self) -> list[Sandbox]:
        """Every pod sandbox (ListPodSandbox without a filter, as kubeadm's ``ListKubeContainers``)."""
        reply = self._call("RuntimeService", "ListPodSandbox", _api().ListPodSandboxRequest())
        ready = _api().SANDBOX_READY
        return [
            Sandbox(p.id, p.metadata.name, p.metadata.namespace, p.state == ready, _seconds(p.created_at))
            for p in reply.items
            if p.id
        ]

    def remove_sandbox(self, sandbox: Sandbox) -> Change:
        """StopPodSandbox then RemovePodSandbox (its containers go with it)."""
        api = _api()
        self._call("RuntimeService", "StopPodSandbox", api.StopPodSandboxRequest(pod_sandbox_id=sandbox.id))
        self._call(
            "RuntimeService", "RemovePodSandbox", api.RemovePodSandboxRequest(pod_sandbox_id=sandbox.id)
        )
        return Change("process", "delete", sandbox.label, "stopped and removed")

    def list_containers(self, namespace: str = "") -> list[ContainerInfo]:
        """Every container (of pods in ``namespace`` when given), without exit codes or log paths
        (:meth:`container_status` has those)."""
        api = _api()
        selector = {POD_NAMESPACE_LABEL: namespace} if namespace else {}
        request = api.ListContainersRequest(filter=api.ContainerFilter(label_selector=selector))
        reply = self._call("RuntimeService", "ListContainers", request)
        return [_container(c) for c in reply.containers]

    def container_status(self, container_id: str) -> ContainerInfo:
        """One container's full status: state, exit code, reason, message, log path."""
        request = _api().ContainerStatusRequest(container_id=container_id)
        st = self._call("RuntimeService", "ContainerStatus", request).status
        return _container(
            st,
            exit_code=st.exit_code,
            reason=st.reason,
            message=st.message,
            log_path=st.log_path,
            finished_at=_seconds(st.finished_at),
        )

    # ImageService
    def image_status(self, image: str) -> CriImage | None:
        """The image, or None when the runtime does not have it (an empty response)."""
        api = _api()
        reply = self._call(
            "ImageService", "ImageStatus", api.ImageStatusRequest(image=api.ImageSpec(image=image))
        )
        if not reply.HasField("image"):
            return None
        img = reply.image
        return CriImage(img.id, tuple(img.repo_tags), tuple(img.repo_digests), img.size)

    def image_present(self, image: str) -> bool:
        return self.image_status(image) is not None

    def pull_image(self, image: str, timeout: float | None = None) -> Pulled:
        """PullImage, with the image reference the runtime reports; ``timeout`` (seconds) instead
        of the client's ``pull_timeout``."""
        api = _api()
        request = api.PullImageRequest(image=api.ImageSpec(image=image))
        reply = self._call("ImageService", "PullImage", request, timeout or self.pull_timeout)
        return Pulled(image, reply.image_ref)


def log_tail(path: str, lines: int = 10, max_bytes: int = 65536) -> list[str]:
    """The last ``lines`` messages of a container log in the CRI format the kubelet has the
    runtime write (``<RFC3339 time> <stream> <P|F> <message>``; partial lines joined); [] when the
    file cannot be read. Reads at most ``max_bytes`` from the end."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            raw = f.read().decode(errors="replace")
    except OSError:
        return []
    out: list[str] = []
    partial = ""
    for line in raw.splitlines()[1 if size > max_bytes else 0 :]:
        parts = line.split(" ", 3)
        if len(parts) < 3 or parts[1] not in ("stdout", "stderr"):
            out.append(line)  # not the CRI format: keep it as it is
            continue
        text = parts[3] if len(parts) == 4 else ""
        if parts[2] == "P":
            partial += text
            continue
        out.append(partial + text)
        partial = ""
    return out[-lines:]
