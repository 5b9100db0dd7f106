"""Exceptions the command line turns into one readable line and exit code 1."""


class RnaiglooError(Exception):
    """Base class: the message is one line meant for the user."""


class InputError(RnaiglooError):
    """Input data that cannot be used (what was expected, what was found, where)."""


class ModelError(RnaiglooError):
    """A model file that is missing, damaged, or made by an incompatible version."""


class OutputError(RnaiglooError):
    """An output that cannot or must not be written (which file, and why)."""
