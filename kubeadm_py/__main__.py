from kubeadm_py.cli.app import entrypoint

entrypoint()
