from kubeadm_py.cli.main import entrypoint

entrypoint()
