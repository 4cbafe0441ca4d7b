"""The docs hold: examples run, architecture.md is the tree, no import cycles, README works."""
