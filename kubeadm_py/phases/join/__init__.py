"""Phases of the join workflow."""
