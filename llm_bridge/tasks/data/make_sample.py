"""Write `arithmetic-sample.jsonl`: problems of our arithmetic generator as a data file.

    python -m llm_bridge.tasks.data.make_sample [--out PATH] [--n 400] [--seed 0]

Each line holds `prompt` (the question), `answer` (the integer) and `solution` (the worked
solution in the answer-tag format), so the file exercises every field of a data task:

    move37 llm train --task jsonl:llm_bridge/tasks/data/arithmetic-sample.jsonl \\
        --set task.reference_field=solution
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from llm_bridge.tasks.arithmetic import ArithmeticTask

DEFAULT_OUT = Path(__file__).parent / "arithmetic-sample.jsonl"


def sample_lines(n: int = 400, seed: int = 0) -> list[str]:
    """`n` JSON lines of one- and two-digit problems with two or three operands."""
    task = ArithmeticTask(digits=(1, 2), terms=(2, 3))
    return [json.dumps({"prompt": p.prompt, "answer": p.answer,
                        "solution": task.worked_solution(p)})
            for p in task.generate("train", n, seed=seed)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.write_text("\n".join(sample_lines(args.n, args.seed)) + "\n", encoding="utf-8")
    print(f"wrote {args.n} problems to {args.out}")


if __name__ == "__main__":
    main()
