"""What the lab measures on a running lab: the matrix, the readiness probes, failure experiments, the
live watch, benchmarks."""
