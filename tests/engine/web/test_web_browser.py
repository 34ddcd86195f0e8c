"""The web board in a real browser: headless Chromium (Debian's) driven by Playwright.

Each test plays a short game by clicking on the SVG board, waits for the agent's reply and
its analysis, tries an illegal click, and saves a screenshot under the test's tmp_path.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.web.app import ServeConfig, create_app

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium() -> str:
    """Debian's Chromium; skips when missing (fails in CI, which installs it)."""
    found = next((p for p in CHROMIUM_PATHS if os.path.exists(p)), None) or shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("no chromium binary (apt-get install chromium); CI is unset")
    return found


@pytest.fixture(scope="module")
def server(quick_roster, tiny_run) -> Iterator[str]:
    """The web board on a free loopback port, in a thread."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(ServeConfig(runs=[tiny_run]), quick_roster())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    path = chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server)
    page.wait_for_selector("#board rect.cell")
    yield page
    page.close()


def start(page, game: str, player: str, human: str = "0", size: str | None = None) -> None:
    """Choose the game, the opponent and the side, and start a new game."""
    page.select_option("#game", game)
    page.wait_for_selector(f'#board[data-kind="{KINDS[game]}"]')
    if size is not None:
        page.select_option("#size", size)
        page.wait_for_function(f"document.querySelectorAll('#board rect.cell').length === "
                               f"{int(size) ** 2}")
    page.wait_for_function(
        f"[...document.querySelectorAll('#player option')].some(o => o.text === '{player}')")
    page.select_option("#player", label=player)
    page.select_option("#human", human)
    page.click("#new")
    page.wait_for_selector("#status:has-text('Your move')")


KINDS = {"tictactoe": "grid", "connect4": "columns", "go": "go", "chess": "chess"}


def click(page, move: str) -> None:
    page.locator(f'#board rect.cell[data-move="{move}"]').first.click()


def wait_moves(page, count: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('#moves li').length >= {count}")


def analysis_shown(page) -> None:
    """The analysis panel names the player and a win probability, with candidates, and
    the board carries a heat map."""
    text = page.inner_text("#analysis")
    assert "win probability" in text and "%" in text
    assert page.locator("#analysis table tr").count() >= 2
    assert page.locator("#board circle.heat").count() >= 1


def test_tictactoe_by_clicks(page, tmp_path: Path):
    start(page, "tictactoe", "mcts:16")
    click(page, "b2")
    wait_moves(page, 2)
    analysis_shown(page)
    assert page.locator("#board text.piece").count() == 2
    click(page, "b2")
    page.wait_for_selector("#message:has-text('occupied')")
    page.screenshot(path=str(tmp_path / "tictactoe.png"))
    page.click("#undo")
    page.wait_for_function("document.querySelectorAll('#moves li').length === 0")


def test_connect4_by_clicks(page, tmp_path: Path):
    page.fill("#start-moves", "444444")
    start(page, "connect4", "mcts:16")
    click(page, "3")
    wait_moves(page, 8)
    analysis_shown(page)
    click(page, "4")
    page.wait_for_selector("#message:has-text('full')")
    page.click("#export-moves")
    page.wait_for_function("document.querySelector('#export').value.startsWith('4 4 4 4 4 4 3')")
    page.screenshot(path=str(tmp_path / "connect4.png"))


def test_go_by_clicks(page, tmp_path: Path):
    start(page, "go", "mcts:16", size="9")
    click(page, "E5")
    wait_moves(page, 2)
    analysis_shown(page)
    assert page.locator("#board circle.piece").count() == 2
    click(page, "E5")
    page.wait_for_selector("#message:has-text('illegal')")
    page.click("#export-record")
    page.wait_for_function("document.querySelector('#export').value.includes('SZ[9]')")
    page.screenshot(path=str(tmp_path / "go.png"))


def test_chess_by_clicks(page, tmp_path: Path):
    start(page, "chess", "mcts:16")
    click(page, "e2")
    click(page, "e4")
    wait_moves(page, 2)
    analysis_shown(page)
    click(page, "e2")
    click(page, "e5")  # e2 is empty now
    page.wait_for_selector("#message:has-text('illegal')")
    page.click("#export-record")
    page.wait_for_function("document.querySelector('#export').value.includes('1. e4')")
    page.screenshot(path=str(tmp_path / "chess.png"))


def test_replay_and_plots_of_a_run(page, tmp_path: Path):
    page.wait_for_function("document.querySelectorAll('#record-file option').length > 0")
    page.fill("#record-index", "1")
    page.click("#replay")
    page.wait_for_selector("#replay-nav button#next:visible")
    page.wait_for_selector("#ply:has-text('move 0 /')")
    assert page.locator("#board text.piece").count() == 0
    page.click("#next")
    page.wait_for_selector("#ply:has-text('move 1 /')")
    assert page.locator("#board text.piece").count() == 1
    page.click("#last")
    page.wait_for_selector("#status:has-text('Result')")
    click(page, "a1")
    page.wait_for_selector("#message:has-text('replay')")
    page.click("#show-plots")
    page.wait_for_function("[...document.querySelectorAll('#plots img')].length >= 3 && "
                           "[...document.querySelectorAll('#plots img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(tmp_path / "replay.png"), full_page=True)
