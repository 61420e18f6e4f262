"""Host paths resolved inside a root directory (``--rootfs``), as ``openat2(RESOLVE_IN_ROOT)``
does, the in-memory overlay of a dry run, and in-memory files for libraries that only take paths.

- :mod:`.walk`: :func:`~.walk.walk` resolves a host path component by component from an open
  root directory (``O_PATH`` descriptors, ``O_NOFOLLOW``): ``..`` and absolute symlinks clamp
  to the root, so no symlink, ``..`` or symlinked directory leads out.
- :mod:`.overlay`: what a dry run wrote and deleted, kept in memory (never on disk).
- :mod:`.memfile`: ``memfd_create`` files for ``ssl`` and the kubeconfig loaders.
"""
