"""Effectors: every side effect a phase has goes through one of these, held by the run context.

Each effector has a real implementation and a dry-run twin with the same interface; the run
context is built with one set or the other (:func:`kubeadm_py.effectors.bundle.build`), so a phase
never asks whether it runs in dry-run. Mutating calls return :class:`~kubeadm_py.changes.Change`
records; in dry-run the twin records what it would do and reads still see the real host.

| effector | real | dry-run twin |
|---|---|---|
| files | :class:`~kubeadm_py.hostfs.HostFS` | HostFS with an in-memory overlay |
| Kubernetes API | :class:`.api.RealApi` (KubeClient) | :class:`.api.DryRunApi` (DryRunKubeClient) |
| services | :class:`.services.SystemdServices` | :class:`.services.DryRunServices` |
| mounts | :class:`.mounts.HostMounts` | :class:`.mounts.DryRunMounts` |
| host commands | :class:`.commands.HostCommands` | :class:`.commands.DryRunCommands` |
| waiting and clock | :class:`.waiting.Waiter` | :class:`.waiting.DryRunWaiter` |
| questions | :class:`.prompt.StdinPrompt` | :class:`.prompt.AssumeYes` |
| container runtime | a CRI client per endpoint | :class:`.cri.DryRunCri` |
| etcd membership | :class:`kubeadm_py.etcd.client.EtcdClient` | :class:`.etcd.DryRunEtcd` |
| discovery reads | :class:`.discovery.HttpFetcher` | the same (it only reads) |

Modules here import only the base layer and the effector modules (``hostfs``, ``kube``, ``host``,
``etcd``)."""
