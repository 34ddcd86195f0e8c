"""`move37 report`: a run's plots and the page showing them, on a real tiny run."""

from __future__ import annotations

import pytest

from engine.cli import main
from engine.loop.gate import elo_with_interval
from engine.report import arena_intervals, read_scalars

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_writes_plots_and_a_page(tiny_run, tmp_path, capsys):
    out = tmp_path / "report"
    with pytest.raises(SystemExit) as stop:
        main(["report", str(tiny_run), "--out", str(out)])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == str(out / "index.html")
    page = (out / "index.html").read_text()
    for name in ("losses", "throughput", "arena"):
        image = out / f"{name}.png"
        assert image.stat().st_size > 5000 and image.read_bytes()[:8] == PNG
        assert f'src="{name}.png"' in page
    assert "accuracy.png" not in page  # a game run logs no accuracy: no empty plot
    assert "positions_trained" in page  # the summary's figures


def test_arena_points_match_the_logged_matches(tiny_run):
    scalars = read_scalars(tiny_run)
    points = arena_intervals(scalars, games=8)["random"]
    assert [p[0] for p in points] == [s for s, _ in scalars["arena/score_vs_random"]]
    for (step, elo, low, high), (_, score) in zip(points, scalars["arena/score_vs_random"]):
        assert low <= elo <= high
        assert elo == pytest.approx(dict(scalars["arena/elo_vs_random"])[step], abs=0.01)


def test_wins_and_draws_come_back_from_score_and_losses():
    # 8 games, 1 win, 2 draws, 5 losses: score 0.25.
    scalars = {"arena/score_vs_x": [(10, 0.25)], "arena/losses_vs_x": [(10, 5.0)]}
    (_, elo, low, high), = arena_intervals(scalars, games=8)["x"]
    assert (elo, low, high) == pytest.approx(elo_with_interval(1, 2, 5))


def test_a_directory_without_logs_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["report", str(tmp_path)])
    assert stop.value.code == 2
    assert "no TensorBoard logs" in capsys.readouterr().err


def test_pass_at_1_of_an_llm_run_is_plotted(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    from engine.report import write_plots

    writer = SummaryWriter(str(tmp_path / "tensorboard"))
    for step, value in ((10, 0.2), (20, 0.3), (30, 0.35)):
        writer.add_scalar("llm/pass_at_1", value, step)
        writer.add_scalar("loss/total", 1 / step, step)
    writer.close()
    assert read_scalars(tmp_path)["llm/pass_at_1"] == [(10, pytest.approx(0.2)),
                                                       (20, pytest.approx(0.3)),
                                                       (30, pytest.approx(0.35))]
    names = [p.name for p in write_plots(tmp_path, tmp_path / "out")]
    assert names == ["losses.png", "accuracy.png"]


def test_the_servers_plot_cache_removes_its_directory(tiny_run):
    import gc

    from engine.web.app import _PlotCache

    cache = _PlotCache([tiny_run])
    names = cache.names(tiny_run)
    root = cache.root
    assert "losses.png" in names and (cache.directory(tiny_run) / "losses.png").is_file()
    del cache
    gc.collect()
    assert not root.exists()
