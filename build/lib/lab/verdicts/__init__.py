"""Judging what users saw: the experiments' per-user rules."""
