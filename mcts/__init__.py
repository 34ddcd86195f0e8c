"""Monte Carlo tree search over preallocated array trees, as Numba kernels.

The search knows neither torch nor any game: the transition function (`step`) and the
evaluator are passed in, and B searches run together so that the evaluator sees full
batches. PUCT (AlphaZero) and Gumbel root search (Gumbel AlphaZero) are both supported.

    >>> import numpy as np
    >>> from mcts import BatchSearch, SearchConfig, uniform_evaluator
    >>> search = BatchSearch(SearchConfig(num_simulations=8), batch_size=4, num_actions=3)
"""

from mcts.config import SearchConfig
from mcts.gumbel import considered_visit_sequence, considered_visit_table
from mcts.search import (BatchSearch, EvaluateFn, SearchOutput, StepFn, StepResult,
                         rollout_evaluator, uniform_evaluator)
from mcts.tree import NO_ACTION, NO_PARENT, ROOT_INDEX, UNVISITED, Tree, principal_variation

__all__ = [
    "BatchSearch",
    "EvaluateFn",
    "NO_ACTION",
    "NO_PARENT",
    "ROOT_INDEX",
    "SearchConfig",
    "SearchOutput",
    "StepFn",
    "StepResult",
    "Tree",
    "UNVISITED",
    "considered_visit_sequence",
    "considered_visit_table",
    "principal_variation",
    "rollout_evaluator",
    "uniform_evaluator",
]
