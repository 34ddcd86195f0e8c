"""Pictures of a training run: PNG plots read from its TensorBoard logs, and a page of them.

    write_report(run_dir, out_dir)  # out_dir/*.png and out_dir/index.html

The plots (each drawn only when the run logged its data; x-axis: the logs' step, positions
trained for board games):

* `losses.png`: every `loss/*` scalar;
* `throughput.png`: self-play positions per second (`*positions_per_sec`, `*per_sec`);
* `arena.png`: `arena/elo_vs_*` with the 95% interval of each match, recovered from the
  logged score and losses and the run's `arena.games` (`engine.loop.gate.elo_with_interval`);
* `accuracy.png`: accuracy and pass@1 scalars (`*accuracy*`, `*pass_at_1*`).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

Series = list[tuple[int, float]]
"""(step, value) points of one scalar, in step order."""

ELO_CLIP = 1000.0
"""Where a perfect or null match score's infinite Elo is drawn (as the loop logs it)."""


class ReportError(ValueError):
    """A run directory without logs to plot."""


def read_scalars(run_dir: Path) -> dict[str, Series]:
    """Every scalar of the run's TensorBoard logs (`RUN/tensorboard`), by tag.

    Raises:
        ReportError: the run has no TensorBoard logs.
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logs = Path(run_dir) / "tensorboard"
    if not logs.is_dir() or not any(logs.iterdir()):
        raise ReportError(f"{run_dir} has no TensorBoard logs (tensorboard/)")
    scalars: dict[str, dict[int, float]] = {}
    for directory in sorted({p.parent for p in logs.rglob("events.out.tfevents.*")}):
        events = EventAccumulator(str(directory), size_guidance={"scalars": 0})
        events.Reload()
        for tag in events.Tags()["scalars"]:
            points = scalars.setdefault(tag, {})
            for event in events.Scalars(tag):
                points[int(event.step)] = float(event.value)  # a resumed run rewrites steps
    return {tag: sorted(points.items()) for tag, points in scalars.items()}


def arena_intervals(scalars: dict[str, Series], games: int
                    ) -> dict[str, list[tuple[int, float, float, float]]]:
    """Per opponent, (step, Elo, low, high) of each arena match of `games` games.

    The loop logs the score (wins + draws / 2 over games) and the losses of each match;
    with the number of games they give wins and draws, hence the interval.
    """
    from engine.loop.gate import elo_with_interval

    out: dict[str, list[tuple[int, float, float, float]]] = {}
    for tag, points in scalars.items():
        if not tag.startswith("arena/score_vs_"):
            continue
        name = tag[len("arena/score_vs_"):]
        losses = dict(scalars.get(f"arena/losses_vs_{name}", []))
        rows = []
        for step, score in points:
            lost = round(losses.get(step, 0))
            draws = max(0, round(2 * (games - lost - score * games)))
            wins = max(0, games - lost - draws)
            elo, low, high = (_clip(x) for x in elo_with_interval(wins, draws, lost))
            rows.append((step, elo, low, high))
        out[name] = rows
    return out


def _clip(x: float) -> float:
    return max(-ELO_CLIP, min(ELO_CLIP, x)) if not math.isnan(x) else 0.0


def write_plots(run_dir: Path, out_dir: Path) -> list[Path]:
    """Draw the run's plots into `out_dir` (created); returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    scalars = read_scalars(run_dir)
    games = _arena_games(run_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in _PLOTS:
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
        try:
            if not draw(axes, scalars, games):
                continue
            axes.set_xlabel("step (positions trained)")
            axes.grid(alpha=0.3)
            axes.legend(fontsize=8)
            figure.tight_layout()
            path = out_dir / f"{name}.png"
            figure.savefig(path)
            written.append(path)
        finally:
            plt.close(figure)
    return written


def _lines(axes: Any, scalars: dict[str, Series], tags: list[str], title: str) -> bool:
    for tag in tags:
        steps, values = zip(*scalars[tag])
        axes.plot(steps, values, marker="." if len(steps) < 30 else None, label=tag)
    axes.set_title(title)
    return bool(tags)


def _losses(axes: Any, scalars: dict[str, Series], games: int) -> bool:
    return _lines(axes, scalars, sorted(t for t in scalars if t.startswith("loss/")), "Losses")


def _throughput(axes: Any, scalars: dict[str, Series], games: int) -> bool:
    tags = sorted(t for t in scalars if t.endswith("per_sec"))
    axes.set_ylabel("per second")
    return _lines(axes, scalars, tags, "Throughput")


def _accuracy(axes: Any, scalars: dict[str, Series], games: int) -> bool:
    tags = sorted(t for t in scalars if "accuracy" in t or "pass_at_1" in t)
    return _lines(axes, scalars, tags, "Accuracy / pass@1")


def _arena(axes: Any, scalars: dict[str, Series], games: int) -> bool:
    matches = arena_intervals(scalars, games)
    for name, rows in sorted(matches.items()):
        steps, elo, low, high = zip(*rows)
        line = axes.plot(steps, elo, marker="o", label=f"vs {name}")[0]
        axes.fill_between(steps, low, high, alpha=0.2, color=line.get_color())
    axes.set_title(f"Arena Elo difference (95% interval, {games} games a match)")
    axes.set_ylabel("Elo")
    return bool(matches)


_PLOTS: list[tuple[str, Callable[[Any, dict[str, Series], int], bool]]] = [
    ("losses", _losses), ("throughput", _throughput), ("arena", _arena),
    ("accuracy", _accuracy)]


def _arena_games(run_dir: Path) -> int:
    """`arena.games` of the run's `config.json` (the loop's default when unreadable)."""
    try:
        return int(json.loads((Path(run_dir) / "config.json").read_text())["arena"]["games"])
    except (OSError, ValueError, KeyError, TypeError):
        from engine.config import RunConfig

        return RunConfig().arena.games


def write_report(run_dir: Path, out_dir: Path) -> Path:
    """The plots and an `index.html` showing them, with the run's last summary figures."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    plots = write_plots(run_dir, out_dir)
    summary: dict[str, Any] = {}
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        pass
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_fmt(v))}</td></tr>"
                   for k, v in sorted(summary.items()))
    images = "".join(f'<figure><img src="{p.name}" alt="{p.stem}"><figcaption>{p.stem}'
                     f"</figcaption></figure>" for p in plots)
    page = (f"<!doctype html><meta charset='utf-8'><title>move37 run {html.escape(run_dir.name)}"
            f"</title><style>body{{font-family:sans-serif;margin:2em}}img{{max-width:100%}}"
            f"figure{{display:inline-block;margin:0 1em 1em 0}}td{{padding:0 1em}}</style>"
            f"<h1>Run {html.escape(run_dir.name)}</h1>{images or '<p>No scalars to plot.</p>'}"
            f"<h2>Last figures (summary.json)</h2><table>{rows}</table>\n")
    index = out_dir / "index.html"
    index.write_text(page)
    return index


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
