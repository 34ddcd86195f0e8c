"""The one training loop: actor -> replay -> learner -> checkpoint -> gate.

Board games (`engine.game_plugin`) and LLM tasks (`llm_bridge.plugin`) are two plug-ins of
it. `Run` drives a plug-in over a run directory; `engine.loop.protocols` declares every hook
a plug-in provides; `CheckpointStore` is the one checkpoint format; `engine.loop.gate` holds
the gate's decisions; `WorkerPool` runs any plug-in's actor in other processes.
"""

from engine.loop.gate import GateDecision, match_decision, paired_decision
from engine.loop.protocols import Actor, Gate, Learner, Plugin, PluginError, Replay, check_plugin
from engine.loop.registry import plugin_class
from engine.loop.run import Run, RunState, completed_iterations, prepare_run
from engine.loop.store import CheckpointStore

__all__ = ["Actor", "CheckpointStore", "Gate", "GateDecision", "Learner", "Plugin",
           "PluginError", "Replay", "Run", "RunState", "check_plugin", "completed_iterations",
           "match_decision", "paired_decision", "plugin_class", "prepare_run"]
