"""Where the fidelity vectors come from: kubernetes/kubernetes files at the commits the search index
stores (each vector's module names its file and commit). The vectors are ported as data: the same
inputs, the same expected outputs; where a vector needed an adaptation, the test says which."""

from __future__ import annotations

REPO = "kubernetes/kubernetes"

# phases/controlplane/manifests_test.go at a main-branch commit that carries CHANGELOG-1.36.md
# (the kubeadm 1.36+ behaviour: probe-port, kube-scheduler /livez + /readyz).
MANIFESTS_TEST = (
    "cmd/kubeadm/app/phases/controlplane/manifests_test.go",
    "898b9f800267a757615ecfb71fc377d04d996c6b",
)
# phases/etcd/local_test.go between #130989 (no creationTimestamp, v1.34.0-alpha.1) and #132776
# (probe-port): etcd 3.5 flags (--experimental-*), /livez and /readyz probes on port 2381.
ETCD_LOCAL_TEST = ("cmd/kubeadm/app/phases/etcd/local_test.go", "6bb6c9934294d8265197c9dfc4c9dd3adaca147a")
DNS_TEST = ("cmd/kubeadm/app/phases/addons/dns/dns_test.go", "99600aa13cc2dbd6d63da219785a67b43e97d8e9")
CERTLIST_TEST = ("cmd/kubeadm/app/phases/certs/certlist_test.go", "2413713c4ea13fb5a66c0597beaa1c3dc2aeb81f")
