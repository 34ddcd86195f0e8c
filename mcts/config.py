"""`SearchConfig`: every knob of the search, documented and validated.

    >>> SearchConfig(num_simulations=32, algorithm="gumbel").gumbel_num_considered
    16
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

ALGORITHMS = ("puct", "gumbel")
"""The search algorithms `SearchConfig.algorithm` accepts."""
FPU_MODES = ("reduction", "loss")
"""The first-play-urgency rules `SearchConfig.fpu` accepts."""


@dataclass(frozen=True)
class SearchConfig:
    """Hyperparameters of one batched search (construct with keywords)."""

    num_simulations: int = 100
    """Simulations per search; each expands at most one node per tree (`run` may override)."""
    algorithm: str = "puct"
    """`puct` (AlphaZero) or `gumbel` (Gumbel root + sequential halving, Danihelka et al. 2022)."""
    c_init: float = 1.25
    """PUCT exploration: c(s) = c_init + log((N(s) + c_base + 1) / c_base)."""
    c_base: float = 19652.0
    """PUCT: visit scale at which the exploration constant starts to grow."""
    fpu: str = "reduction"
    """Q assumed for unvisited children (PUCT): `reduction` (parent's value - fpu_reduction) or `loss` (-1)."""
    fpu_reduction: float = 0.25
    """How far below the parent's value an unvisited child is assumed to be (fpu = "reduction")."""
    dirichlet_alpha: float = 0.3
    """Concentration of the root Dirichlet noise (PUCT), drawn once per search per tree."""
    dirichlet_fraction: float = 0.0
    """Share of the root prior replaced by Dirichlet noise (PUCT; 0 disables it, AlphaZero used 0.25)."""
    temperature: float = 1.0
    """PUCT move choice: sample from visits^(1/temperature); 0 plays the most visited move."""
    gumbel_num_considered: int = 16
    """Gumbel: actions sampled at the root without replacement (Gumbel-top-k)."""
    gumbel_scale: float = 1.0
    """Gumbel: scale of the root Gumbel noise (0 = deterministic: the top-k of the prior)."""
    c_visit: float = 50.0
    """Gumbel: sigma(q) = (c_visit + max_b N(b)) * c_scale * q (see rescale_values)."""
    c_scale: float = 1.0
    """Gumbel: see c_visit."""
    rescale_values: bool = True
    """Gumbel: map each node's completed Q to [0, 1] by their min and max before sigma (as
    mctx does by default). False keeps Q in the game's value units, so that children whose
    values barely differ barely move the improved policy: for games whose values are
    estimates of a success probability rather than a won/lost outcome."""
    leaves_per_round: int = 1
    """Leaves selected per tree and round; above 1 the trees use virtual loss and the
    evaluator sees batches of up to B * leaves_per_round states."""
    forced_playouts: float = 0.0
    """KataGo forced playouts (PUCT root only; 0 disables, KataGo used 2): a root child c
    that has been visited is chosen before PUCT while N(c) < sqrt(k * P(c) * sum_b N(b)),
    and the policy target then subtracts those playouts again (`prune_forced_playouts`)."""
    dirichlet_total_alpha: float = 0.0
    """Total concentration of the root noise split over the legal moves (PUCT; KataGo:
    0.03 * 361 = 10.83); 0 keeps `dirichlet_alpha` per legal move."""
    dirichlet_shaped: bool = False
    """KataGo's shaped noise (PUCT): half of the total concentration split uniformly, half
    in proportion to how far each move's log-prior (capped at log 0.01) lies above the
    legal moves' mean (`dirichlet_alphas`)."""
    root_policy_temperature: float = 1.0
    """Softmax temperature of the root prior before noise (PUCT; > 1 flattens it, KataGo
    used 1.1-1.25 in self-play); 1 leaves the prior as the network gave it."""

    def __post_init__(self) -> None:
        _check(_integer(self.num_simulations) and self.num_simulations >= 1,
               f"num_simulations must be an int >= 1, got {self.num_simulations!r}")
        _check(self.algorithm in ALGORITHMS,
               f"algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}")
        _check(self.fpu in FPU_MODES, f"fpu must be one of {FPU_MODES}, got {self.fpu!r}")
        _check(_finite(self.c_init) and self.c_init >= 0, f"c_init must be >= 0, got {self.c_init!r}")
        _check(_finite(self.c_base) and self.c_base > 0, f"c_base must be > 0, got {self.c_base!r}")
        _check(_finite(self.fpu_reduction), f"fpu_reduction must be finite, got {self.fpu_reduction!r}")
        _check(_finite(self.dirichlet_alpha) and self.dirichlet_alpha > 0,
               f"dirichlet_alpha must be > 0, got {self.dirichlet_alpha!r}")
        _check(_finite(self.dirichlet_fraction) and 0.0 <= self.dirichlet_fraction <= 1.0,
               f"dirichlet_fraction must be in [0, 1], got {self.dirichlet_fraction!r}")
        _check(_finite(self.temperature) and self.temperature >= 0,
               f"temperature must be >= 0, got {self.temperature!r}")
        _check(_integer(self.gumbel_num_considered) and self.gumbel_num_considered >= 1,
               f"gumbel_num_considered must be an int >= 1, got {self.gumbel_num_considered!r}")
        _check(isinstance(self.rescale_values, bool),
               f"rescale_values must be a bool, got {self.rescale_values!r}")
        _check(_finite(self.gumbel_scale) and self.gumbel_scale >= 0,
               f"gumbel_scale must be >= 0, got {self.gumbel_scale!r}")
        _check(_finite(self.c_visit) and self.c_visit >= 0, f"c_visit must be >= 0, got {self.c_visit!r}")
        _check(_finite(self.c_scale) and self.c_scale >= 0, f"c_scale must be >= 0, got {self.c_scale!r}")
        _check(_integer(self.leaves_per_round) and self.leaves_per_round >= 1,
               f"leaves_per_round must be an int >= 1, got {self.leaves_per_round!r}")
        _check(_finite(self.forced_playouts) and self.forced_playouts >= 0,
               f"forced_playouts must be >= 0, got {self.forced_playouts!r}")
        _check(_finite(self.dirichlet_total_alpha) and self.dirichlet_total_alpha >= 0,
               f"dirichlet_total_alpha must be >= 0, got {self.dirichlet_total_alpha!r}")
        _check(isinstance(self.dirichlet_shaped, bool),
               f"dirichlet_shaped must be a bool, got {self.dirichlet_shaped!r}")
        _check(_finite(self.root_policy_temperature) and self.root_policy_temperature > 0,
               f"root_policy_temperature must be > 0, got {self.root_policy_temperature!r}")
        if self.algorithm != "puct":
            # The Gumbel root has its own exploration; these settings would be ignored.
            for name, off in (("forced_playouts", 0.0), ("dirichlet_total_alpha", 0.0),
                              ("dirichlet_shaped", False), ("root_policy_temperature", 1.0)):
                _check(getattr(self, name) == off,
                       f"{name} applies to the puct root only (algorithm is {self.algorithm!r})")


def _integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _finite(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
