"""Signed access tokens (JWT) for the HTTP dialects."""
