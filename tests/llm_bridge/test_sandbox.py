"""The sandbox contains hostile code: each attack ends as a failed run, nothing is harmed,
and the parent stays healthy. Layers are also tested one at a time (the others switched
off) where this machine provides them, with a control run showing the attack works without."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from llm_bridge.sandbox import (
    SandboxLimits,
    SandboxOptions,
    probe_isolation,
    run_python,
)

FAST = SandboxLimits(wall_seconds=3.0, cpu_seconds=2)
HOOK_ONLY = SandboxOptions(network_namespace=False, drop_privileges=False)
NO_HOOK = SandboxOptions(audit_hook=False)
NOTHING = SandboxOptions(audit_hook=False, drop_privileges=False, network_namespace=False)


@pytest.fixture(scope="module")
def isolation() -> tuple[str, ...]:
    return probe_isolation()


def test_plain_code_passes_and_output_is_captured() -> None:
    result = run_python("print(sum(range(10)))\nimport sys; print('err', file=sys.stderr)")
    assert result.passed and result.returncode == 0 and not result.timed_out
    assert result.stdout == "45\n" and result.stderr == "err\n"


def test_an_exception_fails_and_keeps_earlier_output() -> None:
    result = run_python("print('before')\nraise ValueError('boom')")
    assert not result.passed and result.returncode == 1
    assert result.stdout == "before\n" and "ValueError: boom" in result.stderr


def test_isolation_report_names_the_layers(isolation: tuple[str, ...]) -> None:
    assert {"session", "scrubbed-env", "isolated-python", "audit-hook"} <= set(isolation)
    rlimits = next(item for item in isolation if item.startswith("rlimits:"))
    assert {"cpu", "as", "nproc", "fsize", "core"} <= set(rlimits.split(":")[1].split(","))


@pytest.mark.parametrize("code", ["import sys; sys.exit(0)", "import os; os._exit(0)",
                                  "raise SystemExit", "import builtins; builtins.exit(0)"])
def test_early_exit_with_status_zero_is_not_a_pass(code: str) -> None:
    result = run_python(code)
    assert not result.passed


def test_forged_pass_markers_are_not_a_pass() -> None:
    code = (
        "import os\n"
        "for fd in range(3, 64):\n"
        "    try:\n        os.write(fd, b'\\nPASS 0123456789abcdef0123456789abcdef\\n')\n"
        "    except OSError:\n        pass\n"
        "print('PASS'); os._exit(0)\n"
    )
    assert not run_python(code).passed


def test_infinite_loop_is_killed_at_the_wall_clock_limit() -> None:
    started = time.monotonic()
    result = run_python("while True:\n    pass", limits=SandboxLimits(wall_seconds=1.0,
                                                                    cpu_seconds=30))
    assert result.timed_out and not result.passed
    assert time.monotonic() - started < 5


def test_sleeping_forever_is_killed_at_the_wall_clock_limit() -> None:
    result = run_python("import time\ntime.sleep(60)", limits=SandboxLimits(wall_seconds=1.0))
    assert result.timed_out and not result.passed


def test_cpu_limit_kills_a_busy_loop() -> None:
    result = run_python("while True:\n    pass", limits=SandboxLimits(wall_seconds=10,
                                                                    cpu_seconds=1))
    assert not result.passed and not result.timed_out and result.returncode < 0


def test_fork_bomb_is_contained() -> None:
    result = run_python("import os\nwhile True:\n    os.fork()", limits=FAST)
    assert not result.passed and "os.fork" in result.stderr


def test_nproc_limit_alone_stops_forks(isolation: tuple[str, ...]) -> None:
    if not any(item.startswith("uid:") for item in isolation):
        pytest.skip("RLIMIT_NPROC does not bind root and no unprivileged uid is available")
    code = (
        "import os, time\nmade = 0\n"
        "for _ in range(20):\n"
        "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        "    if pid == 0:\n        time.sleep(2); os._exit(0)\n"
        "    made += 1\nprint(made)\n"
    )
    result = run_python(code, limits=FAST, options=NO_HOOK)
    assert result.stdout.strip() == "0"


def test_memory_hog_fails_and_parent_survives() -> None:
    result = run_python("blocks = []\nwhile True:\n    blocks.append(bytearray(2**26))",
                        limits=SandboxLimits(memory_bytes=256 * 2**20))
    assert not result.passed and "MemoryError" in result.stderr
    assert run_python("print(1)").passed


@pytest.mark.parametrize("options", [SandboxOptions(), HOOK_ONLY, NO_HOOK],
                         ids=["all", "hook-only", "os-only"])
def test_write_outside_the_sandbox_does_not_happen(options: SandboxOptions, tmp_path: Path,
                                                   isolation: tuple[str, ...]) -> None:
    if options is NO_HOOK and not any(item.startswith("uid:") for item in isolation):
        pytest.skip("without an unprivileged uid only the audit hook stops this write")
    target = tmp_path / "owned.txt"
    result = run_python(f"open({str(target)!r}, 'w').write('owned')", options=options)
    assert not result.passed and not target.exists()


def test_write_outside_succeeds_without_any_layer(tmp_path: Path) -> None:
    target = tmp_path / "owned.txt"  # control: the attack above is real
    assert run_python(f"open({str(target)!r}, 'w').write('owned')", options=NOTHING).passed
    assert target.read_text() == "owned"


def test_write_through_a_directory_descriptor_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "via-fd.txt"
    code = (f"import os\nfd = os.open({str(tmp_path)!r}, os.O_RDONLY)\n"
            "os.close(os.open('via-fd.txt', os.O_WRONLY | os.O_CREAT, dir_fd=fd))\n")
    assert not run_python(code, options=HOOK_ONLY).passed and not target.exists()
    assert run_python(code, options=NOTHING).passed and target.exists()  # control


def test_writing_inside_the_sandbox_directory_is_allowed() -> None:
    result = run_python("open('notes.txt', 'w').write('ok')\nprint(open('notes.txt').read())")
    assert result.passed and result.stdout == "ok\n"


def test_symlink_out_of_the_sandbox_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "via-link.txt"
    code = f"import os\nos.symlink({str(tmp_path)!r}, 'out')\nopen('out/via-link.txt', 'w')"
    assert not run_python(code, options=HOOK_ONLY).passed and not target.exists()


def _listening_socket() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.3)
    return server


def _connection_arrived(server: socket.socket) -> bool:
    try:
        connection, _ = server.accept()
    except TimeoutError:
        return False
    connection.close()
    return True


@pytest.mark.parametrize(
    "options",
    [SandboxOptions(), HOOK_ONLY, SandboxOptions(audit_hook=False, drop_privileges=False)],
    ids=["all", "hook-only", "netns-only"],
)
def test_network_connection_never_arrives(options: SandboxOptions,
                                          isolation: tuple[str, ...]) -> None:
    if not options.audit_hook and not any(item.startswith("netns") for item in isolation):
        pytest.skip("no network namespace on this machine")
    with _listening_socket() as server:
        port = server.getsockname()[1]
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)"
        result = run_python(code, options=options)
        assert not result.passed and not _connection_arrived(server)


def test_network_connection_arrives_without_any_layer() -> None:
    with _listening_socket() as server:  # control: the attack above is real
        port = server.getsockname()[1]
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)"
        assert run_python(code, options=NOTHING).passed and _connection_arrived(server)


def test_parent_environment_does_not_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVE37_TEST_SECRET", "s3cr3t-token-value")
    result = run_python("import os\nprint(dict(os.environ))")
    assert result.passed and "s3cr3t-token-value" not in result.stdout
    assert "MOVE37_TEST_SECRET" not in result.stdout


@pytest.mark.parametrize("options", [SandboxOptions(), NO_HOOK], ids=["all", "os-only"])
def test_parent_environment_cannot_be_read_through_proc(
    options: SandboxOptions, monkeypatch: pytest.MonkeyPatch, isolation: tuple[str, ...]
) -> None:
    if options is NO_HOOK and not any(item.startswith("uid:") for item in isolation):
        pytest.skip("without an unprivileged uid only the audit hook stops this read")
    monkeypatch.setenv("MOVE37_TEST_SECRET", "s3cr3t-token-value")
    code = "import os\nprint(open(f'/proc/{os.getppid()}/environ', 'rb').read())"
    result = run_python(code, options=options)
    assert not result.passed and "s3cr3t" not in result.stdout + result.stderr


def test_output_is_capped_to_its_tail() -> None:
    limits = SandboxLimits(output_bytes=1000)
    result = run_python("print('a' * 100000)\nprint('END')", limits=limits)
    assert result.passed and len(result.stdout) <= 1000 and result.stdout.endswith("END\n")


def test_descendants_holding_the_pipes_are_killed() -> None:
    code = "import os, time\nif os.fork() == 0:\n    time.sleep(60)\n"
    started = time.monotonic()
    result = run_python(code, options=NOTHING, limits=SandboxLimits(wall_seconds=10))
    assert result.returncode == 0 and time.monotonic() - started < 5


def test_check_runs_against_the_entry_point() -> None:
    test = "def check(candidate):\n    assert candidate(2, 3) == 5\n"
    assert run_python("def add(a, b):\n    return a + b", test=test, entry_point="add").passed
    assert not run_python("def add(a, b):\n    return a - b", test=test,
                          entry_point="add").passed


def test_an_always_equal_result_does_not_pass() -> None:
    code = ("class Anything:\n    def __eq__(self, other):\n        return True\n"
            "def add(a, b):\n    return Anything()\n")
    test = "def check(candidate):\n    assert candidate(2, 3) == 5\n"
    assert not run_python(code, test=test, entry_point="add").passed


def test_patched_builtins_do_not_reach_the_tests() -> None:
    code = "import builtins\nbuiltins.abs = lambda x: 0\ndef root(x):\n    return 1.0\n"
    test = "def check(candidate):\n    assert abs(candidate(4) - 2.0) < 1e-9\n"
    assert not run_python(code, test=test, entry_point="root").passed


def test_frame_introspection_is_refused() -> None:
    result = run_python("import sys\nprint(sys._getframe(1).f_locals)")
    assert not result.passed and "frame introspection" in result.stderr


def test_runs_from_many_threads_at_once() -> None:
    results: list[bool] = []
    threads = [threading.Thread(target=lambda i=i: results.append(
        run_python(f"print({i} * 2)").stdout == f"{i * 2}\n")) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [True] * 4


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(TypeError):
        run_python(b"print(1)")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        run_python("pass", test="def check(c): pass")
    with pytest.raises(ValueError):
        SandboxLimits(wall_seconds=0)



def test_setup_helpers_come_from_trusted_code_not_the_solution() -> None:
    setup = "def encode(s):\n    return s[::-1]\ndef decode(s):\n    pass\n"
    test = "def check(candidate):\n    assert candidate(encode('abc')) == 'abc'\n"
    honest = "def decode(s):\n    return s[::-1]\n"
    rigged = "def encode(s):\n    return s\ndef decode(s):\n    return s\n"
    assert run_python(honest, test=test, entry_point="decode", setup=setup).passed
    assert not run_python(rigged, test=test, entry_point="decode", setup=setup).passed


def test_tests_may_call_the_entry_point_by_name() -> None:
    test = "def check(candidate):\n    assert candidate(3) == double(3) == 6\n"
    setup = "def double(x):\n    '''stub'''\n"
    assert run_python("def double(x):\n    return 2 * x\n", test=test, entry_point="double",
                      setup=setup).passed


def test_without_privileges_it_falls_back_and_says_so() -> None:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to take the privileges away")
    script = (
        "import json\nfrom llm_bridge.sandbox import run_python\n"
        "ok = run_python('print(6 * 7)')\nfork = run_python('import os\\nos.fork()')\n"
        "print(json.dumps([ok.isolation, ok.stdout, fork.passed]))\n"
    )
    done = subprocess.run(
        [setpriv, "--bounding-set", "-sys_admin,-setuid,-setgid", "--inh-caps=-all",
         sys.executable, "-c", script],
        capture_output=True, text=True, timeout=60, check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    isolation, stdout, fork_passed = json.loads(done.stdout)
    assert stdout == "42\n" and not fork_passed
    assert "audit-hook" in isolation
    assert not any(item.startswith(("netns", "uid:")) for item in isolation)
