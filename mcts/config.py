"""`SearchConfig`: every knob of the search, documented and validated."""

from __future__ import annotations

from dataclasses import dataclass

ALGORITHMS = ("puct", "gumbel")
FPU_MODES = ("reduction", "loss")


@dataclass(frozen=True)
class SearchConfig:
    """Hyperparameters of one batched search (keyword-only use is recommended)."""

    num_simulations: int = 100
    """Simulations per search (each expands at most one node per tree)."""
    algorithm: str = "puct"
    """`puct` (AlphaZero) or `gumbel` (Gumbel root + sequential halving, Danihelka et al. 2022)."""
    c_init: float = 1.25
    """PUCT exploration: c(s) = c_init + log((N(s) + c_base + 1) / c_base)."""
    c_base: float = 19652.0
    """PUCT exploration growth scale (AlphaZero's value)."""
    fpu: str = "reduction"
    """Value assumed for unvisited children: `reduction` (parent value - fpu_reduction) or `loss` (-1)."""
    fpu_reduction: float = 0.25
    """How far below the parent's value an unvisited child is assumed to be."""
    dirichlet_alpha: float = 0.3
    """Concentration of the root Dirichlet noise (PUCT)."""
    dirichlet_fraction: float = 0.0
    """Share of the root prior replaced by noise (0 disables; AlphaZero used 0.25)."""
    temperature: float = 1.0
    """Move choice from visit counts N^(1/T) (0 = the most visited); PUCT."""
    gumbel_num_considered: int = 16
    """Gumbel: actions sampled at the root without replacement (Gumbel-top-k)."""
    gumbel_scale: float = 1.0
    """Gumbel: scale of the Gumbel noise (0 = deterministic)."""
    c_visit: float = 50.0
    """Gumbel: sigma(q) = (c_visit + max visits) * c_scale * q, q rescaled to [0, 1]."""
    c_scale: float = 0.1
    """Gumbel: see c_visit."""
    leaves_per_round: int = 1
    """Leaves selected per tree and round (>1 uses virtual loss; network batches grow)."""

    def __post_init__(self) -> None:
        if self.num_simulations < 1:
            raise ValueError(f"num_simulations must be >= 1, got {self.num_simulations}")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}")
        if self.fpu not in FPU_MODES:
            raise ValueError(f"fpu must be one of {FPU_MODES}, got {self.fpu!r}")
        if self.c_init < 0 or self.c_base <= 0:
            raise ValueError("c_init must be >= 0 and c_base > 0")
        if self.dirichlet_alpha <= 0 or not 0.0 <= self.dirichlet_fraction <= 1.0:
            raise ValueError("dirichlet_alpha must be > 0 and dirichlet_fraction in [0, 1]")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if self.gumbel_num_considered < 1 or self.gumbel_scale < 0:
            raise ValueError("gumbel_num_considered must be >= 1 and gumbel_scale >= 0")
        if self.c_visit < 0 or self.c_scale < 0:
            raise ValueError("c_visit and c_scale must be >= 0")
        if self.leaves_per_round < 1:
            raise ValueError("leaves_per_round must be >= 1")
