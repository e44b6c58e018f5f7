"""Shared by every layer: data types, errors, user-facing messages, settings."""
