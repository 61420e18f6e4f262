"""Phases of the init workflow."""
