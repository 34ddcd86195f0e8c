"""Monte Carlo tree search over preallocated array trees, as batched Numba kernels.

The search knows neither torch nor any game: the game's transition (`step`) and the
evaluator (a network, uniform, rollouts) are passed in, and B searches run together so
that the evaluator sees full batches. AlphaZero's PUCT and Gumbel AlphaZero's root search
(Gumbel-top-k with sequential halving, completed Q) are both available, with virtual loss
for several leaves per round and tree reuse between moves.

The kernels are cached on disk by Numba, which does not notice that a kernel's callee in
another module has changed: after editing a kernel, delete `mcts/__pycache__` before
trusting a test run.

    >>> import numpy as np
    >>> from mcts import BatchSearch, SearchConfig, StepResult, uniform_evaluator
    >>> search = BatchSearch(SearchConfig(num_simulations=8), batch_size=4, num_actions=3)
    >>> search.tree.children.shape
    (4, 9, 3)
"""

from mcts.base import EvaluateFn, KernelStep, SearchOutput, StepFn, StepResult
from mcts.config import SearchConfig
from mcts.evaluators import RolloutEvaluator, UniformEvaluator, rollout_evaluator, uniform_evaluator
from mcts.gumbel import considered_visit_sequence, considered_visit_table
from mcts.search import BatchSearch
from mcts.tree import (
                       NO_ACTION,
                       NO_PARENT,
                       ROOT_INDEX,
                       UNVISITED,
                       Tree,
                       node_q_values,
                       principal_variation,
)

__all__ = [
                       "NO_ACTION",
                       "NO_PARENT",
                       "ROOT_INDEX",
                       "UNVISITED",
                       "BatchSearch",
                       "EvaluateFn",
                       "KernelStep",
                       "RolloutEvaluator",
                       "SearchConfig",
                       "SearchOutput",
                       "StepFn",
                       "StepResult",
                       "Tree",
                       "UniformEvaluator",
                       "considered_visit_sequence",
                       "considered_visit_table",
                       "node_q_values",
                       "principal_variation",
                       "rollout_evaluator",
                       "uniform_evaluator",
]
