"""The benchmarks (bench/) still run: a quick smoke run of each."""
