"""Executors: where runs actually execute."""
