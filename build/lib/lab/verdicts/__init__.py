"""Judging what users saw: the matrix's cells, the experiments' per-user rules, the readiness hazards."""
