"""kubeconfig files kubeadm writes: :mod:`.specs` (the table), :mod:`.build` (endpoints and
documents), :mod:`.files` (create-or-reuse, renewal of embedded client certificates, user files)."""
