"""Self-hosting: the control plane as DaemonSets in kube-system instead of static Pods (docs/selfhosting.md).

``contract`` holds the names the pivot and the checkpointer share; ``daemonset`` turns a static Pod
manifest into a DaemonSet (upstream's removed ``phases/selfhosting`` mutators); ``secrets`` the
optional certificates-from-Secrets mutation; ``status`` what ``selfhosting status`` prints;
``checkpoint``, ``checkpointer``, ``checkpoint_secrets``, ``checkpoint_unit`` and ``recover`` the
restart recovery (docs/selfhosting-recovery.md)."""
