"""`move37 bench replay`: both ways of holding the window hold the same positions, and the
command prints one JSON object as its last line."""

from __future__ import annotations

import json

from benchmarks.bench_replay import main


def test_json_is_the_last_line_and_both_buffers_hold_the_window(capsys) -> None:
    main(["--json", "--shards", "40", "--positions", "16", "--window", "300", "--repeats", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    results = json.loads(lines[0])
    per_shard, joined = results["per_shard"], results["joined"]
    assert per_shard["chunks"] == 19 and joined["chunks"] == 1  # 304 positions of 640
    assert per_shard["window"] == joined["window"] == 304
    assert all(per_shard[f"sample_{b}_ms"] > 0 < joined[f"sample_{b}_ms"] for b in (256, 512))
    main(["--shards", "4", "--positions", "4", "--window", "8", "--repeats", "1"])
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("replay sampling") and json.loads(out[-1])["benchmark"] == "replay"
