"""Errors that reach the user as one line (the CLI prints ``str(err)`` and exits non-zero)."""


class GlassesError(Exception):
    """Base for every error whose message is meant for the user, on one line."""


class InputError(GlassesError):
    """Bad input from the user: a file, a flag value, an image."""


class ModelError(GlassesError):
    """A model file is missing, corrupt or does not load."""
