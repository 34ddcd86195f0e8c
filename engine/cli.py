"""The `move37` console command.

The Typer application lives here; the engine's commands live in `engine/commands/`, one
module per area, each decorating `app` or one of the sub-apps below. They are discovered at
import, so a new command is a new file. Packages above the engine (the LLM bridge, the
benchmarks) register their command modules as `move37.commands` entry points. Command
modules import heavy libraries (torch, numba kernels) inside their functions, so
`move37 --help` stays fast.

Errors from bad input (unknown game, malformed move or config, missing checkpoint) are
reported as one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click
import typer
import typer.core

FIRST_COMMANDS = ("train", "play", "arena", "eval", "llm", "games")
"""Listed first by `move37 --help`, in this order; the others follow as registered."""


class _Commands(typer.core.TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        first = {name: rank for rank, name in enumerate(FIRST_COMMANDS)}
        return sorted(super().list_commands(ctx), key=lambda name: first.get(name, len(first)))


app = typer.Typer(
    name="move37",
    cls=_Commands,
    help="Self-play reinforcement learning: train, play and evaluate game agents and LLM policies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Benchmarks of the hot paths (each prints a JSON last line).",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")


class UsageError(Exception):
    """Bad input from the command line; reported as one line, exit code 2."""


def fail(message: str) -> None:
    """Report a usage error and exit with code 2."""
    raise UsageError(message)


def limit_overrides(**limits: object) -> list[str]:
    """The `key=value` overrides of a training command's limit options that were given
    (`--minutes`, `--iterations`, `--device`, `--workers`): what `--resume` may change."""
    return [f'{key}="{value}"' if isinstance(value, str) else f"{key}={value}"
            for key, value in limits.items() if value is not None]


def _register_commands() -> None:
    import engine.commands as commands
    from engine.loop.registry import load_command_modules

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"engine.commands.{info.name}")
    load_command_modules()  # the packages above engine (LLM bridge, benchmarks) add theirs


_register_commands()


def _one_line_errors() -> tuple[type[BaseException], ...]:
    from games.base import GameError

    errors: list[type[BaseException]] = [UsageError, GameError, FileNotFoundError]
    try:
        from engine.config import ConfigError

        errors.append(ConfigError)
    except ImportError:
        pass
    try:
        from engine.checkpoint import CheckpointError

        errors.append(CheckpointError)
    except ImportError:
        pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `move37` console script."""
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit:
        raise  # before the next clause, whose imports (torch) would slow down `--help`
    except _one_line_errors() as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"move37: error: {message}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("move37: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    # Run as a script, this file is `__main__`, while the command modules register on
    # `engine.cli.app`: run that module's entry point.
    from engine.cli import main as package_main

    package_main()
