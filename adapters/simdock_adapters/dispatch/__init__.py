"""Dispatchers: how queued work reaches whoever executes it."""
