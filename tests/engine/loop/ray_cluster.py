"""A real Ray cluster on the loopback address for the tests: `ray start --head --block` on a
free port, in its own process group, stopped (with every process it started) at the end."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TOY_DIR = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_command() -> Path:
    return Path(sys.executable).with_name("ray")


class LocalCluster:
    """`ray start --head` with `cpus` CPUs; actors import this checkout and the toy plug-in."""

    def __init__(self, cpus: int = 2) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        env = {**os.environ,
               "PYTHONPATH": os.pathsep.join([str(REPO), str(TOY_DIR)]),
               "RAY_USAGE_STATS_ENABLED": "0"}
        self.process = subprocess.Popen(
            [str(ray_command()), "start", "--head", "--block", f"--port={self.port}",
             "--node-ip-address=127.0.0.1", f"--num-cpus={cpus}", "--num-gpus=0",
             "--include-dashboard=false", "--disable-usage-stats"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("ray start --head exited")
                time.sleep(0.5)
        else:
            self.stop()
            raise RuntimeError("the Ray head did not come up within 90 s")
        time.sleep(2)  # the raylet registers a moment after the GCS listens

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def require_ray() -> None:
    # Found, not imported: the driver sets Ray's auth mode before its first import.
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (pip install 'move37[dist]')")
    if not ray_command().exists():
        pytest.skip("the `ray` command is not installed beside this Python")
