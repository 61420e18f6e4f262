"""Phases used by more than one workflow (init, join, upgrade)."""
