"""``kubeadm-py verify``: health checks of a node and of the cluster after bootstrap (issue 15)."""
