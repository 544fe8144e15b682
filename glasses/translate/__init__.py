"""Offline translation of sign text: a curated phrasebook, and a plug-in for a user-supplied model."""
