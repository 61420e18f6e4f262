"""Certificates and keys as kubeadm writes them.

Modules: :mod:`.keys` (key algorithms and PEM), :mod:`.specs` (the certificate table),
:mod:`.sans` (SAN computation), :mod:`.issue` (CA and leaf issuance), :mod:`.store` (files over
HostFS), :mod:`.verify` (checks of existing files), :mod:`.manager` (create-or-reuse, renew),
:mod:`.expiration` (check-expiration), :mod:`.csr` (external-CA CSRs). Nothing heavy is imported here.
"""
