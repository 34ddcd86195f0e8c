"""Plug-ins and CLI command modules, found by name through entry points.

Higher packages register themselves in `pyproject.toml` instead of being imported from
below: `[project.entry-points."move37.plugins"]` maps a plug-in name to its class
(`game = "engine.game_plugin:GamePlugin"`, `llm = "llm_bridge.plugin:LLMPlugin"`), and
`[project.entry-points."move37.commands"]` names the modules that add commands to the
`move37` CLI. So `engine` never imports `llm_bridge` or `benchmarks`, yet a worker process
can build any plug-in from its name alone.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.loop.protocols import Plugin

PLUGIN_GROUP = "move37.plugins"
COMMAND_GROUP = "move37.commands"


def plugin_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=PLUGIN_GROUP))


def plugin_class(name: str) -> type[Plugin]:
    """The plug-in class registered as `name`, or named `module:Class` (a plug-in that is
    not registered, such as a test's).

    Raises:
        KeyError: no such plug-in (the message lists the known ones).
    """
    if ":" in name:
        module, _, attribute = name.partition(":")
        return getattr(importlib.import_module(module), attribute)
    for ep in entry_points(group=PLUGIN_GROUP):
        if ep.name == name:
            return ep.load()
    raise KeyError(f"no loop plug-in {name!r}; known: {', '.join(plugin_names()) or 'none'} "
                   "(is the package installed with `pip install -e .`?)")


def load_command_modules() -> None:
    """Import every registered command module (each adds its commands to the CLI)."""
    for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        ep.load()
