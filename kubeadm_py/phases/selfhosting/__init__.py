"""Phases of self-hosting: ``init phase selfhosting`` and ``selfhosting pivot`` (docs/selfhosting.md)."""
