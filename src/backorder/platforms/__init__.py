"""Platforms that ship with the core package (registered through entry points like any other)."""
