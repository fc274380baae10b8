"""Writes and rules about accounts that span models."""
