"""``python -m rnaigloo``."""

from rnaigloo.cli import run

if __name__ == "__main__":
    run()
