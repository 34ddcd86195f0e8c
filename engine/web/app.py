"""The web board's Starlette application: a JSON API and the static page that draws it.

Every request is checked before it touches a game: bodies over `max_body` bytes, bodies
that are not a JSON object, fields of the wrong type, unknown games, ids or players, and
illegal moves all get a 4xx answer `{"error": "<one line>"}`. The page names players only
by roster index or name (see `engine.web.players`).
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import games
from engine.web.boards import parse_click, read_records
from engine.web.players import Roster, analyse, analysis_json
from engine.web.sessions import HUMAN_SIDES, Session, SessionStore
from games.base import Game, GameError

STATIC_DIR = Path(__file__).with_name("static")
WEB_GAMES = ("tictactoe", "connect4", "go", "chess")
"""The games the page draws."""
GO_SIZES = (9, 13, 19)
"""Board sizes the page offers for Go (the API takes any size Go allows)."""
RECORD_EXTENSIONS = (".txt", ".sgf", ".pgn")
MAX_START_TEXT = 4000
"""Longest `moves` text a new game may start from."""


@dataclass
class ServeConfig:
    """What `move37 serve` was started with."""

    checkpoints: list[str] = field(default_factory=list)
    """`--checkpoint` values: run dirs, checkpoint files, `ckpt:PATH[:SIMS]`, `zoo:NAME`."""
    runs: list[Path] = field(default_factory=list)
    """More run directories whose plots and game records the page may show."""
    sims: int = 64
    """Simulations per move of checkpoint players given without a count."""
    device: str = "cpu"
    """Where networks run."""
    seed: int = 0
    """Seed of the players' random choices."""
    max_games: int = 64
    """Games kept at once; a new one beyond drops the one idle longest."""
    max_body: int = 64 * 1024
    """Largest request body accepted, in bytes."""
    default_game: str | None = None
    """The game the page opens with (None: tic-tac-toe)."""


class ApiError(Exception):
    """A request the server refuses: answered with `status` and `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class BodyLimit:
    """ASGI middleware: refuse bodies over `limit` bytes, by their declared length or as
    they arrive (a chunked body declares none)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _error(413, f"request body over {self.limit} bytes")(scope, receive, send)
            return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise ApiError(413, f"request body over {self.limit} bytes")
            return message

        await self.app(scope, limited, send)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(config: ServeConfig, roster: Roster | None = None) -> Any:
    """The ASGI application for `config` (the roster is built from it unless given)."""
    roster = roster or Roster.build(config.checkpoints, config.sims, config.device,
                                    config.seed)
    store = SessionStore(config.max_games)
    runs = _run_dirs(roster, config.runs)
    plots = _PlotCache(runs)
    if config.default_game is not None and config.default_game not in WEB_GAMES:
        raise GameError(f"the web board plays {', '.join(WEB_GAMES)}, not "
                        f"{config.default_game!r}")

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html")

    async def settings(request: Request) -> Response:
        return JSONResponse({
            "games": list(WEB_GAMES), "go_sizes": list(GO_SIZES),
            "default_game": config.default_game or "tictactoe",
            "players": [{"index": i, "name": p.name, "game": p.game}
                        for i, p in enumerate(roster.players)],
            "runs": [{"index": i, "name": run.name} for i, run in enumerate(runs)]})

    async def players(request: Request) -> Response:
        game, _ = _make_game(dict(request.query_params))
        return JSONResponse({"players": [
            {"index": i, "name": p.name, "why_not": roster.why_not(i, game)}
            for i, p in enumerate(roster.players)]})

    async def new_game(request: Request) -> Response:
        body = await _json_body(request, config.max_body)
        game, options = _make_game(body)
        human = body.get("human", 0)
        if human not in HUMAN_SIDES or isinstance(human, bool):
            raise ApiError(400, "human must be 0 (move first) or 1 (move second)")
        try:
            index = roster.find(body.get("player", 0))
        except LookupError as error:
            raise ApiError(400, str(error)) from None
        why = roster.why_not(index, game)
        if why is not None:
            raise ApiError(400, why)
        session = store.create(game, options, index, human, _start_moves(game, body))
        await run_in_threadpool(_agent_turns, session, roster)
        return JSONResponse(session.snapshot())

    async def show(request: Request) -> Response:
        session = _session(store, request)
        ply = request.query_params.get("ply")
        if ply is None:
            return JSONResponse(session.snapshot())
        if not ply.isdigit() or int(ply) > len(session.actions):
            raise ApiError(400, f"ply must be a whole number from 0 to {len(session.actions)}")
        return JSONResponse(session.snapshot(int(ply)))

    async def move(request: Request) -> Response:
        session = _session(store, request)
        body = await _json_body(request, config.max_body)
        text = body.get("move")
        if not isinstance(text, str) or not 0 < len(text) <= 16:
            raise ApiError(400, "move must be a string of 1 to 16 characters")
        if session.player is None:
            raise ApiError(409, "this is a replay: start a game to play")
        return JSONResponse(await run_in_threadpool(_human_move, session, roster, text))

    async def undo(request: Request) -> Response:
        session = _session(store, request)
        if session.player is None:
            raise ApiError(409, "this is a replay: nothing to undo")
        with session.lock:
            if not session.actions or (len(session.actions) == 1
                                       and session.game.to_play(session.state) != session.human):
                raise ApiError(409, "no move of yours to take back")
            session.undo()
            return JSONResponse(session.snapshot())

    async def analyse_now(request: Request) -> Response:
        session = _session(store, request)
        if session.player is None:
            raise ApiError(409, "a replay has no player to analyse with")
        return JSONResponse(await run_in_threadpool(_analyse_position, session, roster))

    async def export(request: Request) -> Response:
        session = _session(store, request)
        form = request.query_params.get("format", "record")
        if form not in ("record", "moves"):
            raise ApiError(400, "format must be record or moves")
        return JSONResponse(session.export(form))

    async def run_games(request: Request) -> Response:
        run = _run(runs, request)
        return JSONResponse({"files": [p.name for p in _record_files(run)]})

    async def replay(request: Request) -> Response:
        body = await _json_body(request, config.max_body)
        run_index, name, number = body.get("run"), body.get("file"), body.get("index", 0)
        if not isinstance(run_index, int) or not 0 <= run_index < len(runs):
            raise ApiError(400, f"run must be an index from 0 to {len(runs) - 1}")
        files = {p.name: p for p in _record_files(runs[run_index])}
        if not isinstance(name, str) or name not in files:
            raise ApiError(400, "file must name one of the run's game records")
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise ApiError(400, "index must be a whole number")
        game_name, trained = _run_game(runs[run_index])
        try:
            records = read_records(game_name, files[name].read_text())
        except (GameError, ValueError) as error:
            raise ApiError(422, f"cannot read {name}: {str(error).splitlines()[0]}") from None
        if number >= len(records):
            raise ApiError(400, f"{name} holds {len(records)} games")
        options, moves = records[number]
        game = games.make(game_name, **({**trained, **options} if game_name == "go" else {}))
        state, actions = game.initial_state(), []
        for text in moves:
            actions.append(game.text_to_action(state, text))
            state = game.next_state(state, actions[-1])
        session = store.create(game, options, None, None, actions,
                               title=f"{runs[run_index].name}/{name} #{number} "
                                     f"of {len(records)}")
        return JSONResponse(session.snapshot(0))

    async def run_plots(request: Request) -> Response:
        run = _run(runs, request)
        names = await run_in_threadpool(plots.names, run)
        return JSONResponse({"plots": names})

    async def plot_image(request: Request) -> Response:
        run = _run(runs, request)
        name = request.path_params["name"]
        if name not in plots.names(run):
            raise ApiError(404, f"no plot {name!r} for this run")
        return FileResponse(plots.directory(run) / name, media_type="image/png")

    routes = [
        Route("/", index),
        Route("/api/config", settings),
        Route("/api/players", players),
        Route("/api/games", new_game, methods=["POST"]),
        Route("/api/games/{id}", show),
        Route("/api/games/{id}/move", move, methods=["POST"]),
        Route("/api/games/{id}/undo", undo, methods=["POST"]),
        Route("/api/games/{id}/analyse", analyse_now, methods=["POST"]),
        Route("/api/games/{id}/export", export),
        Route("/api/replays", replay, methods=["POST"]),
        Route("/api/runs/{run:int}/games", run_games),
        Route("/api/runs/{run:int}/plots", run_plots),
        Route("/api/runs/{run:int}/plots/{name}", plot_image),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]

    async def api_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        return _error(error.status, error.message)

    async def http_error(request: Request, error: Exception) -> Response:
        status = getattr(error, "status_code", 400)
        return _error(status, str(getattr(error, "detail", "")) or "bad request")

    async def crashed(request: Request, error: Exception) -> Response:
        return _error(500, f"internal error: {type(error).__name__}")

    from starlette.exceptions import HTTPException

    app = Starlette(routes=routes, exception_handlers={
        ApiError: api_error, HTTPException: http_error, Exception: crashed})
    app.state.roster, app.state.store = roster, store
    return BodyLimit(app, config.max_body)


# --- request helpers -----------------------------------------------------------------------

async def _json_body(request: Request, limit: int) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > limit:
        raise ApiError(413, f"request body over {limit} bytes")
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def _make_game(fields: dict[str, Any]) -> tuple[Game, dict[str, Any]]:
    """The game a request names, with its options (Go: `size`, `komi`)."""
    name = fields.get("game")
    if not isinstance(name, str) or name not in WEB_GAMES:
        raise ApiError(400, f"game must be one of {', '.join(WEB_GAMES)}")
    options: dict[str, Any] = {}
    if name == "go":
        size, komi = _number(fields.get("size", 9), "size"), _number(fields.get("komi", 7.5),
                                                                      "komi")
        if size != int(size) or not 5 <= size <= 19:
            raise ApiError(400, "size must be a whole number from 5 to 19")
        if not -150 <= komi <= 150:
            raise ApiError(400, "komi must lie between -150 and 150")
        options = {"size": int(size), "komi": float(komi)}
    return games.make(name, **options), options


def _start_moves(game: Game, fields: dict[str, Any]) -> list[int]:
    """The actions of the optional `moves` field: the game starts after them (move texts
    separated by spaces; a Connect Four digit string such as `4453` also reads)."""
    text = fields.get("moves", "")
    if not isinstance(text, str) or len(text) > MAX_START_TEXT:
        raise ApiError(400, f"moves must be a string of at most {MAX_START_TEXT} characters")
    words = text.split()
    if game.name == "connect4":
        words = [digit for word in words for digit in word]
    state, actions = game.initial_state(), []
    for number, word in enumerate(words, 1):
        try:
            actions.append(game.text_to_action(state, word))
        except GameError as error:
            raise ApiError(400, f"start move {number} {word!r}: "
                                f"{str(error).splitlines()[0]}") from None
        state = game.next_state(state, actions[-1])
    return actions


def _number(value: Any, name: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ApiError(400, f"{name} must be a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ApiError(400, f"{name} must be a number")
    return float(value)


def _session(store: SessionStore, request: Request) -> Session:
    try:
        return store.get(request.path_params["id"])
    except KeyError:
        raise ApiError(404, "no such game (it may have ended or been dropped)") from None


def _run(runs: list[Path], request: Request) -> Path:
    index = request.path_params["run"]
    if not 0 <= index < len(runs):
        raise ApiError(404, f"no run {index}")
    return runs[index]


# --- turns ---------------------------------------------------------------------------------

def _human_move(session: Session, roster: Roster, text: str) -> dict[str, Any]:
    with session.lock:
        game, state = session.game, session.state
        if game.outcome(state) is not None:
            raise ApiError(409, "the game is over: start a new one or undo")
        if game.to_play(state) != session.human:
            raise ApiError(409, "it is not your turn")
        try:
            action = parse_click(game, state, text)
        except GameError as error:
            raise ApiError(400, f"illegal move {text!r}: "
                                f"{str(error).splitlines()[0] or 'not allowed'}") from None
        session.play(action)
        _agent_turns(session, roster, locked=True)
        return session.snapshot()


def _agent_turns(session: Session, roster: Roster, locked: bool = False) -> None:
    """Let the computer side move until it is the human's turn or the game ends."""
    if not locked:
        with session.lock:
            _agent_turns(session, roster, locked=True)
        return
    game = session.game
    while game.outcome(session.state) is None and game.to_play(session.state) != session.human:
        entry = _analysis(session, roster)
        entry["played"] = True
        session.analyses.append(entry)
        session.play(entry["action"])


def _analyse_position(session: Session, roster: Roster) -> dict[str, Any]:
    with session.lock:
        if session.game.outcome(session.state) is not None:
            raise ApiError(409, "the game is over")
        entry = _analysis(session, roster)
        session.analyses.append(entry)
        return session.snapshot()


def _analysis(session: Session, roster: Roster) -> dict[str, Any]:
    """The computer player's analysis of the session's position, as the page shows it."""
    from engine.web.boards import board_view

    game, state = session.game, session.state
    key = f"{game.name}:{json.dumps(session.options, sort_keys=True)}"
    assert session.player is not None
    with roster.lock:
        agent = roster.agent(session.player, game, key)
        started = time.perf_counter()
        result, q_values = analyse(agent, game, state)
        seconds = time.perf_counter() - started
    view = board_view(game, state, session.actions[-1] if session.actions else None)
    entry = analysis_json(game, state, result, q_values, view,
                          roster.players[session.player].name)
    entry.update(ply=len(session.actions), seconds=round(seconds, 3))
    return entry


# --- runs ----------------------------------------------------------------------------------

def _run_dirs(roster: Roster, extra: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in [p.run_dir for p in roster.players if p.run_dir is not None] + list(extra):
        path = Path(path).resolve()
        if path.is_dir() and path not in found:
            found.append(path)
    return found


def _record_files(run: Path) -> list[Path]:
    directory = run / "games"
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in RECORD_EXTENSIONS)


def _run_game(run: Path) -> tuple[str, dict[str, Any]]:
    """The game a run trained on and its options, from its `config.json`."""
    try:
        config = json.loads((run / "config.json").read_text())
        return str(config["game"]), dict(config.get("game_options") or {})
    except (OSError, ValueError, KeyError, TypeError):
        raise ApiError(422, f"run {run.name} has no readable config.json") from None


class _PlotCache:
    """A run's report plots, drawn on first request and again when a minute old."""

    def __init__(self, runs: list[Path]) -> None:
        self.runs = runs
        self._root: Path | None = None
        self._drawn: dict[Path, tuple[float, list[str]]] = {}

    @property
    def root(self) -> Path:
        """A temporary directory, made on the first drawing and removed with the cache (or
        when the server's process ends)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="move37-plots-"))
            weakref.finalize(self, shutil.rmtree, self._root, True)
        return self._root

    def directory(self, run: Path) -> Path:
        return self.root / str(self.runs.index(run))

    def names(self, run: Path) -> list[str]:
        drawn = self._drawn.get(run)
        if drawn is None or time.monotonic() - drawn[0] > 60:
            from engine.report import write_plots

            paths = write_plots(run, self.directory(run))
            drawn = (time.monotonic(), [p.name for p in paths])
            self._drawn[run] = drawn
        return drawn[1]
