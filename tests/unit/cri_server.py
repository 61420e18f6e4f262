"""A gRPC server on a unix socket standing in for a container runtime's CRI: ``answers`` maps a
method name (``ListPodSandbox``, ``PullImage``...) to a function of the raw request returning the
raw response, or raising :class:`Abort` to fail the call with a gRPC status; every call is
recorded in ``calls`` as (method, request)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any


class Abort(Exception):
    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


Answer = Callable[[bytes], bytes]


class CriServer:
    def __init__(self, socket: Path, answers: dict[str, Answer]) -> None:
        import grpc

        self.answers = answers
        self.calls: list[tuple[str, bytes]] = []
        server = self

        def handle(name: str, req: bytes, ctx: Any) -> bytes:
            server.calls.append((name, req))
            answer = server.answers.get(name)
            if answer is None:
                ctx.abort(grpc.StatusCode.UNIMPLEMENTED, f"unknown method {name}")
            try:
                return answer(req)
            except Abort as e:
                ctx.abort(getattr(grpc.StatusCode, e.code), e.details)
                raise

        class Handler(grpc.GenericRpcHandler):
            def service(self, details: Any) -> Any:
                name = details.method.rsplit("/", 1)[1]
                return grpc.unary_unary_rpc_method_handler(lambda req, ctx: handle(name, req, ctx))

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self.server.add_generic_rpc_handlers((Handler(),))
        self.server.add_insecure_port(f"unix://{socket}")
        self.server.start()

    def stop(self) -> None:
        self.server.stop(None)
