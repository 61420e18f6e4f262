"""Talking to the Kubernetes API server: a small typed client over plain-dict objects
(:mod:`kubeadm_py.kube.client`), a recording dry-run client (:mod:`kubeadm_py.kube.dryrun`) and the
factory a :class:`~kubeadm_py.phases.context.RunContext` uses (:mod:`kubeadm_py.kube.factory`)."""
