"""Builders for the objects kubeadm writes into the cluster (plain dicts, as upstream's manifests and
Go structs produce them) and the operations that apply them through a Kubernetes client."""
