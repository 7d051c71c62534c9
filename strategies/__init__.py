"""Hypothesis strategies compiled from the CreateImage contract (see the README)."""
