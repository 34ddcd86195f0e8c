"""Monte Carlo tree search over preallocated array trees, as Numba kernels."""
