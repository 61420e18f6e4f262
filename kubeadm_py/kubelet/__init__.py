"""Node-side kubelet files kubeadm writes (config.yaml, kubeadm-flags.env) and the kubelet service."""
