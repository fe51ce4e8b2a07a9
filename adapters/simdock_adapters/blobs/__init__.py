"""Blob stores: a local directory, and an in-memory one for tests."""
