"""Adapters that plug simdock's ports into real infrastructure."""
