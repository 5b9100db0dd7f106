"""``python -m rnaigloo`` and the ``rnaigloo`` command.

The signal handlers are set before the command line's modules are imported, so a
Ctrl-C or SIGTERM that lands while they load ends in one line, not a traceback.
"""

import signal
import sys

from rnaigloo.runtime.signals import STOP_SIGNALS, Stopped, stop_on_signals


def entry() -> None:
    """Console-script entry point."""
    stop_on_signals()
    try:
        if hasattr(signal, "pthread_sigmask"):
            # a signal held back by whoever started us is acted on now, by these handlers;
            # and a process started with SIGTERM blocked can still be stopped
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        from rnaigloo.cli import run

        run()
    except Stopped as stop:  # before or after main() has its own handling
        sys.stderr.write(f"rnaigloo: {stop.word}; no output file was written\n")
        sys.exit(stop.exit_code)


if __name__ == "__main__":
    entry()
