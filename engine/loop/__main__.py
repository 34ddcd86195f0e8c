"""`python -m engine.loop PLUGIN RUN_DIR [--resume] [key=value ...]`: run any registered
plug-in over a run directory without the CLI's display (scripts, schedulers, tests)."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.loop import Run, plugin_class, prepare_run


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m engine.loop PLUGIN RUN_DIR [--resume] [key=value ...]")
    plugin, run_dir = plugin_class(argv[0]), Path(argv[1])
    resume = "--resume" in argv[2:]
    overrides = [a for a in argv[2:] if a != "--resume"]
    config = prepare_run(plugin, run_dir, None if resume else plugin.resolve_config(
        overrides=overrides), resume, overrides if resume else None)
    Run(plugin.build(config, run_dir), run_dir, resume=resume).run()


if __name__ == "__main__":
    main(sys.argv[1:])
