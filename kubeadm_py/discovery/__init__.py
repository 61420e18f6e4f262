"""Join discovery: find and trust the cluster before anything is written on the joining node.

* :mod:`.token` - bootstrap-token discovery (``cluster-info`` fetched without trusting the server,
  detached-JWS check with the token secret, CA public-key pins, verified re-fetch);
* :mod:`.file` - ``--discovery-file`` (a kubeconfig path or an ``https://`` URL);
* :mod:`.discover` - picks the mechanism from the JoinConfiguration and builds the TLS bootstrap
  kubeconfig (``bootstrap-kubelet.conf``);
* :mod:`kubeadm_py.effectors.discovery` - the HTTP side (anonymous or token-authenticated reads of
  ``cluster-info``; an effector, ``ctx.fx.discovery_fetcher``, replaceable through ``Hooks``);
* :mod:`.kubeconfig` - parsing the kubeconfig documents discovery deals with;
* :mod:`.csr` - what the kubelet does next (a node client certificate through a CSR signed with the
  bootstrap token's identity), for tests, benchmarks and kubelet-less nodes.

Nothing heavy is imported here."""
