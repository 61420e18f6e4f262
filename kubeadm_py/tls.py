"""TLS client contexts as Go's crypto/tls verifies: Python 3.13 turned on ``VERIFY_X509_STRICT``
by default, which refuses CA certificates without a keyUsage extension (``openssl req -x509``
makes such CAs, and Go, so kubeadm, accepts them). Every client context of kubeadm-py comes from
here."""

from __future__ import annotations

import ssl


def client_context(*, cafile: str | None = None, cadata: str | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cafile, cadata=cadata)
    ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    return ctx
