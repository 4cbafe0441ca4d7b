"""Placeholder until the first generate."""
