"""The command line: ``commands`` parses and calls the package's jobs, ``options`` holds the
options the commands share, ``exits`` runs it all and maps errors to exit codes.

TensorFlow is imported only inside the commands that need it, so ``--help`` and usage
errors answer at once.
"""

from rnaigloo.cli.exits import main, run

__all__ = ["main", "run"]
