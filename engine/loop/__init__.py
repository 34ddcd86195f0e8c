"""The one training loop: actor -> replay -> learner -> checkpoint -> gate.

Board games (`engine.game_plugin`) and LLM tasks (`llm_bridge.plugin`) are two plug-ins of
it. `Run` drives a plug-in over a run directory; `engine.loop.protocols` declares every hook
a plug-in provides; `CheckpointStore` is the one checkpoint format; `engine.loop.gate` holds
the gate's decisions; `WorkerPool` runs any plug-in's actor in other processes.

The names below are imported on first use, so that `engine.loop.registry` (which the CLI
needs to find its commands) loads without torch and `move37 --help` answers at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "GateDecision": "gate", "match_decision": "gate", "paired_decision": "gate",
    "Actor": "protocols", "Gate": "protocols", "Learner": "protocols", "Plugin": "protocols",
    "PluginError": "protocols", "Replay": "protocols", "check_plugin": "protocols",
    "RunState": "protocols", "plugin_class": "registry", "Run": "run",
    "completed_iterations": "run", "prepare_run": "run", "CheckpointStore": "store",
}

__all__ = ["Actor", "CheckpointStore", "Gate", "GateDecision", "Learner", "Plugin",
           "PluginError", "Replay", "Run", "RunState", "check_plugin", "completed_iterations",
           "match_decision", "paired_decision", "plugin_class", "prepare_run"]

if TYPE_CHECKING:
    from engine.loop.gate import GateDecision, match_decision, paired_decision
    from engine.loop.protocols import (
        Actor,
        Gate,
        Learner,
        Plugin,
        PluginError,
        Replay,
        RunState,
        check_plugin,
    )
    from engine.loop.registry import plugin_class
    from engine.loop.run import Run, completed_iterations, prepare_run
    from engine.loop.store import CheckpointStore


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'engine.loop' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"engine.loop.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
