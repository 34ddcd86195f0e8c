"""The real local Ray cluster the distributed tests share, one per test module."""

from __future__ import annotations

import sys

import pytest
from ray_cluster import LocalCluster, require_ray


@pytest.fixture(scope="module")
def cluster():
    """`ray start --head` on a free loopback port; a driver this process joined leaves it
    before the cluster stops."""
    require_ray()
    head = LocalCluster(cpus=2)
    try:
        yield head
    finally:
        if "ray" in sys.modules:
            sys.modules["ray"].shutdown()
        head.stop()
