"""The use cases: plain functions, the message first and the platform after."""
