"""The version of rnaigloo: one place, read by ``pyproject.toml`` and by every module that reports it."""

__version__ = "0.2.0.dev0"
