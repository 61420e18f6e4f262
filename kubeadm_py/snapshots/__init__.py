"""etcd snapshots: save, status, restore (kubeadm-py etcd snapshot)."""
