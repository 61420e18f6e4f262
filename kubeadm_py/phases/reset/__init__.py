"""Phases of the reset workflow."""
