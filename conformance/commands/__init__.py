"""One module per ``parity`` subcommand: argument parsing and the run, nothing else."""

from __future__ import annotations
