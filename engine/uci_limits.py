"""UCI command parsing and time management for `engine.uci`: pure functions, no I/O.

`parse_go`, `parse_position` and `parse_setoption` turn a command's words into values (or
raise `UciError`, which the engine reports as `info string error: ...`); `think_time` is
the time manager.
"""

from __future__ import annotations

from dataclasses import dataclass

import chess

MAX_SIMULATIONS = 1_000_000
"""The largest value the simulation options accept."""
SEARCH_CAP = 5_000
"""Default of the `SearchCap` option: simulations of a search that only time or `stop` ends.
The search's tree keeps a prior, a legal flag, a child index, a visit count and a value sum
per action of every node: 17 bytes x 4,672 actions, about 80 KB a node, so 5,000
simulations take some 400 MB."""


class UciError(ValueError):
    """A malformed command; reported as `info string error: ...`, changing nothing."""


@dataclass(frozen=True)
class GoLimits:
    """The limits of one `go` (times in milliseconds; None: not given)."""

    nodes: int | None = None
    movetime: int | None = None
    wtime: int | None = None
    btime: int | None = None
    winc: int | None = None
    binc: int | None = None
    movestogo: int | None = None
    infinite: bool = False

    @property
    def timed(self) -> bool:
        return self.movetime is not None or self.wtime is not None or self.btime is not None


_GO_NUMBERS = ("nodes", "movetime", "wtime", "btime", "winc", "binc", "movestogo")
_GO_IGNORED_NUMBERS = ("depth", "mate")


def parse_go(args: list[str]) -> tuple[GoLimits, list[str]]:
    """The limits of `go <args>`, and what was wrong with them (searches go ahead anyway)."""
    values: dict[str, object] = {}
    problems: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if word in ("infinite", "ponder"):
            values["infinite"] = True
        elif word in _GO_NUMBERS or word in _GO_IGNORED_NUMBERS:
            text = args[index] if index < len(args) else ""
            index += 1
            try:
                number = int(text)
            except ValueError:
                problems.append(f"go {word} needs an integer, got {text!r}")
                continue
            if word in _GO_IGNORED_NUMBERS:
                problems.append(f"go {word} is not supported; searching by nodes or time")
            else:
                values[word] = max(0, number)
        elif word == "searchmoves":
            while index < len(args) and parse_uci_move(args[index]) is not None:
                index += 1
            problems.append("go searchmoves is not supported; searching all moves")
        else:
            problems.append(f"unknown go parameter {word!r}")
    return GoLimits(**values), problems  # type: ignore[arg-type]


def think_time(limits: GoLimits, white: bool, overhead_ms: int) -> float | None:
    """Seconds to search: `movetime`, or a share of the clock; None when neither is given.

    The move overhead (the GUI's and the process's latency) comes off `movetime`, and is kept
    in reserve on the clock, whose share is `available / movestogo + 3/4 * increment`
    (30 moves to go when not told), never more than what is available.
    """
    budgets = []
    if limits.movetime is not None:
        budgets.append(limits.movetime - overhead_ms)
    remaining = limits.wtime if white else limits.btime
    if remaining is not None:
        increment = (limits.winc if white else limits.binc) or 0
        moves_to_go = min(limits.movestogo or 30, 50)
        available = max(0, remaining - overhead_ms)
        budgets.append(min(available / moves_to_go + 0.75 * increment, available))
    if not budgets:
        return None
    return max(0.0, min(budgets)) / 1000.0


def parse_position(args: list[str]) -> tuple[str, list[str]]:
    """(FEN, UCI move texts) of `position startpos|fen <FEN> [moves <m1> ...]`."""
    if not args or args[0] not in ("startpos", "fen"):
        raise UciError("position needs 'startpos' or 'fen <FEN>' (position unchanged)")
    if args[0] == "startpos":
        fen, rest = chess.STARTING_FEN, args[1:]
    else:
        end = args.index("moves") if "moves" in args else len(args)
        fen, rest = " ".join(args[1:end]), args[end:]
        if not fen:
            raise UciError("position fen needs a FEN (position unchanged)")
    if rest and rest[0] != "moves":
        raise UciError(f"unexpected {rest[0]!r} in position (position unchanged)")
    return fen, rest[1:]


_OPTION_ALIASES = {"nodes": "Simulations"}


MAX_MULTIPV = 5
"""The most lines `MultiPV` may ask for."""
SPIN_LIMITS = {"Simulations": (0, MAX_SIMULATIONS), "SearchCap": (1, MAX_SIMULATIONS),
               "MultiPV": (1, MAX_MULTIPV), "MoveOverhead": (0, 5000), "Temperature": (0, 500)}
"""(min, max) of each integer (`spin`) option; `Temperature` is in hundredths."""


def parse_setoption(args: list[str], options: dict[str, object]) -> tuple[str, object]:
    """(option name as declared, converted value) of `setoption name <id> [value <x>]`."""
    if not args or args[0] != "name":
        raise UciError("setoption needs 'name <id> [value <x>]'")
    end = args.index("value") if "value" in args else len(args)
    asked = " ".join(args[1:end])
    text = " ".join(args[end + 1 :])
    by_lower = {name.lower(): name for name in options}
    name = _OPTION_ALIASES.get(asked.lower()) or by_lower.get(asked.lower())
    if name is None:
        raise UciError(f"unknown option {asked!r}")
    try:
        if name in SPIN_LIMITS:
            low, high = SPIN_LIMITS[name]
            value: object = int(text)
            if not low <= value <= high:  # type: ignore[operator]
                raise ValueError(f"must be in [{low}, {high}]")
        elif name == "UCI_ShowWDL":
            if text.lower() not in ("true", "false"):
                raise ValueError("must be true or false")
            value = text.lower() == "true"
        else:
            value = text
            if not text:
                raise ValueError("must not be empty")
    except ValueError as error:
        unit = " (hundredths: 100 = 1.0)" if name == "Temperature" else ""
        raise UciError(f"bad value {text!r} for option {name}{unit}: {error}") from None
    return name, value


def parse_uci_move(text: str) -> chess.Move | None:
    """The move of a UCI text (`e2e4`, `e7e8q`), or None if it is not one."""
    try:
        return chess.Move.from_uci(text)
    except chess.InvalidMoveError:
        return None
