"""The CRI API (runtime.v1): the kept ``api.proto`` and the modules generated from it at build time
(SOURCE.md)."""
