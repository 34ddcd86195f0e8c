"""`move37 report`: PNG plots of a run and an HTML page showing them."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from engine.cli import app, fail


@app.command("report")
def report_command(
    run: Path = typer.Argument(..., help="Run directory."),
    out: Optional[Path] = typer.Option(None, help="Where to write (default RUN/report)."),
) -> None:
    """Plot a run's losses, throughput, arena Elo and accuracy from its TensorBoard logs."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        fail("plots need matplotlib: pip install matplotlib")
    from engine.report import ReportError, write_report

    if not run.is_dir():
        fail(f"{run} is not a run directory")
    try:
        index = write_report(run, out if out is not None else run / "report")
    except ReportError as error:
        fail(str(error))
    print(index)
