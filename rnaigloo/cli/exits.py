"""How a run ends: the command line run, every error turned into one line on stderr and
an exit code.

Exit codes: 0 success; 1 bad input or a runtime failure (one line on stderr, the
traceback only with ``--debug``); 2 usage errors; 130 interrupted (Ctrl-C); 143
terminated (SIGTERM). When the reader of stdout goes away (``| head``), click ends the
run quietly with 1.
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Sequence
from typing import IO, Any

import click

from rnaigloo.cli.commands import cli
from rnaigloo.errors import RnaiglooError
from rnaigloo.runtime.signals import Stopped, stop_on_signals


def main(argv: Sequence[str] | None = None, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting.

    Args:
        argv: arguments without the program name (default: ``sys.argv[1:]``).
        stdout, stderr: where results and messages go (default: the process's).
    """
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    obj: dict[str, Any] = {"stdout": stdout, "stderr": stderr, "debug": False}
    args = list(sys.argv[1:] if argv is None else argv)
    previous: dict[int, Any] = {}
    try:
        previous = stop_on_signals()
        rc = cli.main(args=args, prog_name="rnaigloo", standalone_mode=False, obj=obj)
        return rc if isinstance(rc, int) else 0
    except click.exceptions.Exit as err:
        return err.exit_code
    except click.UsageError as err:
        hint = f"\nTry '{err.ctx.command_path} --help' for help." if err.ctx else ""
        stderr.write(f"rnaigloo: usage error: {err.format_message()}{hint}\n")
        return 2
    except click.ClickException as err:
        stderr.write(f"rnaigloo: error: {err.format_message()}\n")
        return err.exit_code
    except click.exceptions.Abort:  # click's form of Ctrl-C
        stderr.write("rnaigloo: interrupted; no output file was written\n")
        return 130
    except RnaiglooError as err:
        if obj.get("debug"):
            traceback.print_exc(file=stderr)
        stderr.write(f"rnaigloo: error: {err}\n")
        return 1
    except KeyboardInterrupt:  # where no handler of ours could be set (not the main thread)
        stderr.write("rnaigloo: interrupted; no output file was written\n")
        return 130
    except Stopped as stop:
        stderr.write(f"rnaigloo: {stop.word}; no output file was written\n")
        return stop.exit_code
    except MemoryError:
        stderr.write("rnaigloo: error: out of memory; try a smaller --batch-size\n")
        return 1
    except Exception as err:  # the last guard: one line, never a traceback by default
        if obj.get("debug"):
            traceback.print_exc(file=stderr)
        if isinstance(err, ModuleNotFoundError):
            from rnaigloo.runtime.dependencies import missing_dependency_message

            message = missing_dependency_message(err.name)
            if message is not None:  # an install without TensorFlow (the classify image)
                stderr.write(f"rnaigloo: error: {message}\n")
                return 1
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        stderr.write(f"rnaigloo: error: {type(err).__name__}: {first} (run with --debug for details)\n")
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        try:
            stdout.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
