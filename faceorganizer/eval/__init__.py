"""Scoring the grouping against labeled folders (faceorganizer eval, the benchmarks)."""
