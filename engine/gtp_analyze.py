"""Analysis output for Go GUIs: the `lz-analyze` (Leela Zero) and `kata-analyze` (KataGo)
GTP extensions that Sabaki, Lizzie and KaTrain read.

    lz-analyze [colour] [interval] [KEY VALUE ...]      keys: interval, maxmoves
    kata-analyze [colour] [interval] [KEY VALUE ...]    keys: interval, maxmoves,
                                                        ownership, pvVisits

The engine answers `=` at once, then prints one line every `interval` centiseconds (0 or
none: one line when the search ends) until the next command arrives; an empty line ends the
stream and that command is answered as usual. `colour` analyses the position as if that
colour were to move. Each line holds one `info` block per candidate (a root move the search
visited), most visited first, `order` its rank, `pv` its most visited line:

    lz:   info move D4 visits 120 winrate 5312 prior 1200 lcb 5100 order 0 pv D4 Q16 ...
    kata: info move D4 visits 120 utility 0.062400 winrate 0.531200 prior 0.120000
          lcb 0.510000 utilityLcb 0.020000 order 0 pv D4 Q16 ...

Leela Zero gives winrate, prior and lcb in 1/10000; KataGo as floats in [0, 1]. Both are for
the side to move (KataGo's default, `reportAnalysisWinratesAs = SIDETOMOVE`).

What the numbers are, where move37 differs from KataGo:

* winrate = (Q + 1) / 2 with Q the move's mean backed-up value (a win/loss expectation in
  [-1, 1]); utility is Q itself (KataGo adds a score utility; we have none).
* lcb: the search keeps no second moment of the values, so the bound takes the largest
  spread a quantity in [0, 1] can have: lcb = max(0, winrate - 1.96 * 0.5 / sqrt(visits)),
  the lower end of a 95% normal-approximation interval whose only error about the spread
  is to overstate it. utilityLcb = 2 * lcb - 1.
* No score keys (scoreMean, scoreStdev, scoreLead, scoreSelfplay): the network has no score
  head and the search no score estimate, and any mapping from a win probability to points
  would be made up. Leela Zero's lines have none of them either, and the GUIs that read
  both formats show what they are given.
* `ownership true` asks the agent's `ownership(game, state)` hook; when it has none (a
  network without the ownership head, a rollout search) the command fails with `ownership is not available for this network`.
  Given one, the line ends with ` ownership v1 ... vN` once (N = board points, row by row
  from the top-left point, A19 on 19x19, as KataGo orders them; +1 = the side to move owns
  the point, KataGo's default perspective).
* `pvVisits true` adds ` pvVisits n1 n2 ...` after each pv: the visits of each node the pv
  goes through. `minmoves`, `avoid`, `allow` and KataGo's other keys are not supported and
  are refused, so that a GUI learns it at once.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

COLOUR_WORDS = {"b": 0, "black": 0, "w": 1, "white": 1}
LCB_Z = 1.96  # the normal quantile of a two-sided 95% interval
MAX_SPREAD = 0.5  # the largest standard deviation of a quantity in [0, 1]
UNSUPPORTED_KEYS = ("minmoves", "avoid", "allow", "rootInfo", "ownershipStdev",
                    "movesOwnership", "pvEdgeVisits", "rules", "includePolicy")


class AnalyzeError(ValueError):
    """Arguments of an analyze command that cannot be accepted; the text is the GTP error."""


@dataclass(frozen=True)
class AnalyzeRequest:
    """A parsed `lz-analyze` / `kata-analyze` command."""

    kata: bool
    """KataGo's line format (floats, utility, ownership) instead of Leela Zero's."""
    player: int | None = None
    """Analyse as if this colour (0 black, 1 white) were to move; None: the side to move."""
    interval: float = 0.0
    """Seconds between lines; 0: one line when the search ends."""
    max_moves: int | None = None
    """At most this many candidates per line (None: every visited move)."""
    ownership: bool = False
    """End each line with the agent's ownership of every point (kata only)."""
    pv_visits: bool = False
    """Follow each pv with the visits of its nodes (kata only)."""


def parse_analyze(args: list[str], *, kata: bool) -> AnalyzeRequest:
    """`[colour] [interval] [KEY VALUE ...]` -> a request.

    Raises:
        AnalyzeError: a malformed argument, an unknown key, or one we do not support.
    """
    words = list(args)
    player = None
    if words and words[0].lower() in COLOUR_WORDS:
        player = COLOUR_WORDS[words.pop(0).lower()]
    options: dict[str, object] = {}
    if words and words[0].isdigit():
        options["interval"] = int(words.pop(0)) / 100
    known = ("interval", "maxmoves") + (("ownership", "pvVisits") if kata else ())
    while words:
        key = words.pop(0)
        if key in UNSUPPORTED_KEYS or (not kata and key in ("ownership", "pvVisits")):
            raise AnalyzeError(f"{key} is not supported")
        if key not in known:
            raise AnalyzeError(f"syntax error: unknown key {key!r}")
        if not words:
            raise AnalyzeError(f"syntax error: {key} needs a value")
        value = words.pop(0)
        if key in ("interval", "maxmoves"):
            if not value.isdigit():
                raise AnalyzeError(f"syntax error: {key} must be a whole number, got {value!r}")
            options[key] = int(value) / 100 if key == "interval" else int(value)
        else:
            if value not in ("true", "false"):
                raise AnalyzeError(f"syntax error: {key} must be true or false, got {value!r}")
            options[key] = value == "true"
    max_moves = options.get("maxmoves")
    return AnalyzeRequest(kata=kata, player=player,
                          interval=float(options.get("interval", 0.0)),  # type: ignore[arg-type]
                          max_moves=int(max_moves) if max_moves else None,  # type: ignore[call-overload]
                          ownership=bool(options.get("ownership", False)),
                          pv_visits=bool(options.get("pvVisits", False)))


class SearchAnalysis(Protocol):
    """What the lines are made of (see `engine.agent_types.Analysis`)."""

    action: int
    value: float
    visits: np.ndarray | None
    q: np.ndarray | None
    prior: np.ndarray | None
    pv: list[int] | None
    lines: dict[int, list[int]] | None
    line_visits: dict[int, list[int]] | None


@dataclass(frozen=True)
class Candidate:
    """One root move of a line."""

    action: int
    visits: int
    winrate: float  # [0, 1] for the side to move
    prior: float  # [0, 1]
    lcb: float  # [0, 1]
    pv: list[int]
    pv_visits: list[int]


def winrate_lcb(winrate: float, visits: int) -> float:
    """The lower confidence bound of a winrate from `visits` samples (module docstring)."""
    if visits <= 0:
        return 0.0
    return max(0.0, winrate - LCB_Z * MAX_SPREAD / math.sqrt(visits))


def candidates(analysis: SearchAnalysis, max_moves: int | None = None) -> list[Candidate]:
    """The visited root moves, most visited first (ties: higher prior, then lower index).

    An analysis without visit counts (an agent that does not search) gives its chosen move
    alone, with 0 visits and the position's value.
    """
    prior = analysis.prior
    if analysis.visits is None:
        action = int(analysis.action)
        return [Candidate(action, 0, (analysis.value + 1) / 2,
                          float(prior[action]) if prior is not None else 0.0, 0.0,
                          list(analysis.pv or [action]), [])]
    visits = np.asarray(analysis.visits)
    prior_of = (lambda a: float(prior[a])) if prior is not None else (lambda a: 0.0)
    order = sorted((int(a) for a in np.flatnonzero(visits > 0)),
                   key=lambda a: (-int(visits[a]), -prior_of(a), a))
    lines = analysis.lines or {}
    line_visits = analysis.line_visits or {}
    out = []
    for action in order[:max_moves]:
        q = float(analysis.q[action]) if analysis.q is not None else analysis.value
        winrate = min(1.0, max(0.0, (q + 1) / 2))
        n = int(visits[action])
        line = lines.get(action) or [action]
        out.append(Candidate(action, n, winrate, prior_of(action), winrate_lcb(winrate, n),
                             line, line_visits.get(action, [n])[: len(line)]))
    return out


def _float(x: float) -> str:
    return f"{x:.6f}"


def lz_line(moves: list[Candidate], vertex: Callable[[int], str]) -> str:
    """One Leela Zero line: winrate, prior and lcb in 1/10000."""
    return " ".join(
        f"info move {vertex(c.action)} visits {c.visits} winrate {round(10000 * c.winrate)} "
        f"prior {round(10000 * c.prior)} lcb {round(10000 * c.lcb)} order {rank} "
        f"pv {' '.join(vertex(a) for a in c.pv)}"
        for rank, c in enumerate(moves))


def kata_line(moves: list[Candidate], vertex: Callable[[int], str], *,
              pv_visits: bool = False, ownership: np.ndarray | None = None) -> str:
    """One KataGo line: floats in [0, 1], utility in [-1, 1], optional pvVisits/ownership."""
    blocks = []
    for rank, c in enumerate(moves):
        block = (f"info move {vertex(c.action)} visits {c.visits} "
                 f"utility {_float(2 * c.winrate - 1)} winrate {_float(c.winrate)} "
                 f"prior {_float(c.prior)} lcb {_float(c.lcb)} "
                 f"utilityLcb {_float(2 * c.lcb - 1)} order {rank} "
                 f"pv {' '.join(vertex(a) for a in c.pv)}")
        if pv_visits:
            block += f" pvVisits {' '.join(str(n) for n in c.pv_visits)}"
        blocks.append(block)
    line = " ".join(blocks)
    if ownership is not None:
        line += " ownership " + " ".join(_float(float(v)) for v in ownership)
    return line


def analysis_line(request: AnalyzeRequest, analysis: SearchAnalysis,
                  vertex: Callable[[int], str], ownership: np.ndarray | None = None) -> str:
    """The line `request` asks for, without its newline."""
    moves = candidates(analysis, request.max_moves)
    if request.kata:
        return kata_line(moves, vertex, pv_visits=request.pv_visits, ownership=ownership)
    return lz_line(moves, vertex)


class Analyser(Protocol):
    """The agent's part in an analysis: a search that reports as it goes and honours `stop`
    (`engine.agents.SearchAgent.analyse`)."""

    def analyse(self, game: Any, state: np.ndarray, *, simulations: int | None = None,
                stop: threading.Event | None = None,
                on_progress: Callable[[Any], None] | None = None) -> Any: ...


@dataclass(frozen=True)
class AnalysisJob:
    """One analyze command's search; `serve` runs it on its own thread while it watches stdin.

    The search grows one tree (the agent searches in chunks and reuses its tree between
    them) up to `simulations`, then stops and its last line stands: a longer search is the
    same tree with more visits, so numbers only get better as the stream goes on, and no
    work is thrown away as it would be by re-running larger searches from scratch.
    """

    agent: Analyser
    game: Any
    state: np.ndarray | None
    """The position with the analysed colour to move; None: a finished game (no lines)."""
    request: AnalyzeRequest
    simulations: int | None
    """The most simulations the tree grows to (None: the agent's own budget)."""
    vertex: Callable[[int], str]
    ownership: np.ndarray | None = None

    def run(self, write: Callable[[str], None], stop: threading.Event) -> None:
        """Search until `stop` is set or the budget is spent, writing a line (with its
        newline) every `request.interval` seconds and one for the final state of the search
        if that was not the last one written."""
        if self.state is None:
            return
        interval = self.request.interval
        last_time, written = [time.monotonic()], [None]

        def line(analysis: Any) -> str:
            return analysis_line(self.request, analysis, self.vertex, self.ownership) + "\n"

        def progress(analysis: Any) -> None:
            now = time.monotonic()
            if interval > 0 and now - last_time[0] >= interval:
                write(line(analysis))
                last_time[0], written[0] = now, analysis

        result = self.agent.analyse(self.game, self.state, simulations=self.simulations,
                                    stop=stop, on_progress=progress)
        if written[0] is not result:
            write(line(result))


def stream(job: AnalysisJob, write: Callable[[str], None], next_command: Callable[[], str],
           warn: Callable[[str], None]) -> str:
    """Run `job` on a thread of its own until `next_command()` returns (the next command's
    line, or the end of input), end the stream with an empty line, and return that line.
    A search that fails ends its lines early and is reported to `warn`."""
    stop = threading.Event()

    def search() -> None:
        try:
            job.run(write, stop)
        except Exception as error:  # noqa: BLE001 - a failed analysis must not end the engine
            warn(f"analysis failed: {error}")

    worker = threading.Thread(target=search, name="gtp-analysis", daemon=True)
    worker.start()
    line = next_command()
    stop.set()
    worker.join()
    write("\n")
    return line
