"""Read-only access to the machine kubeadm-py runs on (CPUs, memory, ports, executables,
init system, container runtime), behind the :class:`~kubeadm_py.host.probe.SystemProbe` protocol."""
