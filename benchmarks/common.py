"""What every `python -m benchmarks.bench_*` command line shares: the parser with `--json`
and the output (a human report unless `--json`, then the results as one JSON line)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def parser_for(doc: str) -> argparse.ArgumentParser:
    """A parser described by the first line of a module docstring, with `--json`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    return parser


def emit(results: dict[str, Any], report: Callable[[dict[str, Any]], str],
         json_only: bool) -> None:
    """Print `report(results)` unless `json_only`, then `results` as one JSON line."""
    if not json_only:
        print(report(results))
    print(json.dumps(results))
