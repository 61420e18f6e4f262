"""Phases of the upgrade workflow."""
