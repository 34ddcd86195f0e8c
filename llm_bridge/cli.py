"""`move37 llm train` and `move37 llm eval`: RL on verifiable-reward tasks, and scoring.

Registered as a `move37.commands` entry point: the engine's CLI never imports this package.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from engine.cli import app, fail, limit_overrides

llm_app = typer.Typer(help="Train and evaluate language-model policies on verifiable-reward "
                           "tasks (arithmetic, countdown, humaneval).", no_args_is_help=True)
app.add_typer(llm_app, name="llm")


def task_overrides(overrides: list[str]) -> list[str]:
    """`task.KEY=VALUE` read as `task_options.KEY=VALUE` (the task's own options).

    >>> task_overrides(["task.prompt_field=question", "grpo.epochs=2"])
    ['task_options.prompt_field=question', 'grpo.epochs=2']
    """
    return [f"task_options.{o[len('task.'):]}" if o.strip().startswith("task.") else o
            for o in overrides]


def run_name(task: str) -> str:
    """A task spec as a directory name part (`jsonl:data/x.jsonl` -> `jsonl-x`)."""
    source, sep, path = task.partition(":")
    return f"{source}-{Path(path).stem}" if sep else task


def _default_preset(task: str, model: str) -> str | None:
    """`llm-TASK-MODEL` when configs/ holds that preset (a model path never names one)."""
    from engine.config import CONFIG_DIR

    name = f"llm-{task}-{model}"
    if "/" in name or "\\" in name:
        return None
    return name if (CONFIG_DIR / f"{name}.toml").is_file() else None


@llm_app.command("train")
def llm_train(
    task: str | None = typer.Option(None, help="Task (arithmetic, countdown, humaneval), or a "
                                               "data file: jsonl:PATH or hf:DIR."),
    model: str | None = typer.Option(None, help="tiny, smollm2, a local directory or a hub name."),
    algo: str | None = typer.Option(None, help="grpo or search."),
    preset: str | None = typer.Option(None, help="Preset in configs/ (default llm-TASK-MODEL)."),
    minutes: float | None = typer.Option(
        None, help="Stop after this many minutes of RL, after the model is loaded (with "
                   "--resume: this many more)."),
    iterations: int | None = typer.Option(
        None, help="Stop after this many iterations (with --resume: this many more)."),
    out: Path | None = typer.Option(None, help="Run directory (default runs/llm-TASK-TIME)."),
    seed: int | None = typer.Option(None, help="Root seed."),
    device: str | None = typer.Option(None, help="auto, cpu, cuda, cuda:N."),
    workers: int | None = typer.Option(None, help="Actor processes besides the learner."),
    cluster: str | None = typer.Option(
        None, help="Run the actors on Ray: auto or the head's HOST:PORT (docs/distributed.md)."),
    actors: int | None = typer.Option(None, help="Ray actors with --cluster (as --workers)."),
    resume: Path | None = typer.Option(
        None, help="Continue the run in this directory; --minutes and --iterations add to it."),
    control: str | None = typer.Option(None, help="A control run, rewards replaced: random "
                                                  "(at the verifier's rate) or format."),
    set_: list[str] = typer.Option([], "--set", help="Config override key=value (repeatable)."),
    quiet: bool = typer.Option(False, help="One plain line per iteration, no live display."),
) -> None:
    """Fine-tune a policy by RL (GRPO or tree-search expert iteration), with checkpoints,
    TensorBoard logs, a dev-set gate and test pass@1 before and after in summary.json."""
    started = time.monotonic()
    from engine.display import Display, quiet_libraries
    from llm_bridge.config import resolve_llm

    display = Display(live=False if quiet else None)
    workers = actors if actors is not None else workers
    if resume is not None:
        if any(x is not None for x in (task, model, algo, preset, seed, out, control)) or set_:
            fail("--resume takes only --minutes, --iterations, --device, --workers/--actors "
                 "and --cluster")
        quiet_libraries()
        from engine.loop import completed_iterations, prepare_run
        from llm_bridge.plugin import LLMPlugin

        done = completed_iterations(resume) if (resume / "config.json").is_file() else 0
        limits = limit_overrides(minutes=minutes, device=device, workers=workers,
                                 cluster=cluster,
                                 iterations=None if iterations is None else done + iterations)
        config = prepare_run(LLMPlugin, resume, None, True, limits)
        if config.iterations and done >= config.iterations and not minutes:
            fail(f"{resume} has run {done} iterations, its limit of {config.iterations}: "
                 f"add --iterations N or --minutes M to run more")
        run_dir = resume
    else:
        task_name, model_name = task or "arithmetic", model or "tiny"
        chosen = preset or _default_preset(task_name, model_name)
        limits = limit_overrides(minutes=minutes, iterations=iterations, device=device,
                                 workers=workers, cluster=cluster)
        overrides = [f'task="{task_name}"', f'model="{model_name}"', *task_overrides(set_),
                     *limits]
        if algo is not None:
            overrides.append(f'algo="{algo}"')
        if seed is not None:
            overrides.append(f"seed={seed}")
        if control is not None:
            overrides.append(f'control="{control}"')
        config = resolve_llm(chosen, overrides)
        stamp = time.strftime('%Y%m%d-%H%M%S')
        run_dir = out or Path("runs") / f"llm-{run_name(task_name)}-{stamp}"
        # The first line before torch and transformers load.
        display.event(_start_line(config, run_dir, None))
        quiet_libraries()
        from engine.loop import prepare_run
        from llm_bridge.plugin import LLMPlugin

        prepare_run(LLMPlugin, run_dir, config, False)
        done = None
    if resume is not None:
        display.event(_start_line(config, run_dir, done))
    _train_with_display(config, run_dir, done, display, started)


def _start_line(config, run_dir: Path, resumed_at: int | None) -> str:
    from engine.display import Budget

    budget = Budget(0.0, config.minutes, resumed_at or 0, config.iterations)
    what = (f"budget {budget.describe()}" if resumed_at is None else
            f"resuming at iteration {resumed_at}; running {budget.describe(more=True)}")
    return (f"move37 llm train {config.task} with {config.model} by {config.algo} -> "
            f"{run_dir}; {what}; seed {config.seed}")


def _train_with_display(config, run_dir: Path, resumed_at: int | None, display,
                        started: float) -> None:
    from engine.display import Budget, clock, run_saving_on_interrupt
    from engine.loop import Run
    from llm_bridge.plugin import LLMPlugin

    # The time budget is RL's: it starts once the model is built (a first warm start of the
    # tiny model takes minutes, shown by its own progress bar).
    budget = Budget(started, config.minutes, resumed_at or 0, config.iterations)

    def show(metrics: dict) -> None:
        parts = [f"it {metrics['iteration']}", budget.fields(metrics["iteration"]),
                 f"reward {metrics.get('llm/reward', float('nan')):.3f}",
                 f"len {metrics.get('llm/completion_length', float('nan')):.1f}"]
        if "loss/policy" in metrics:
            parts.append(f"policy {metrics['loss/policy']:+.4f}")
        if "loss/value" in metrics:
            parts.append(f"value {metrics['loss/value']:.4f}")
        if "llm/pass_at_1" in metrics:
            parts.append(f"dev pass@1 {metrics['llm/pass_at_1']:.3f}"
                         f"{' (best)' if metrics.get('gate/promoted') else ''}")
        display.event(" | ".join(parts))

    with _one_line_errors():
        plugin = LLMPlugin.build(config, run_dir, log=display.event)
        run = Run(plugin, run_dir, resume=resumed_at is not None, on_iteration=show)
    budget.started = time.monotonic()
    summary = run_saving_on_interrupt(run, display, budget.started,
                                      f"move37 llm train --resume {run_dir}")
    before = summary.get("test_before", {}).get("pass@1")
    after = summary.get("test_after", {}).get("pass@1")
    score = ""
    if before is not None and after is not None:
        score = (f"; test pass@1 {before:.3f} before RL -> {after:.3f} after (best "
                 f"iteration {summary.get('best_iteration')})")
    display.event(f"done in {clock(time.monotonic() - started)}: {run.state.iteration} "
                  f"iterations, {plugin.learner.samples} samples{score}; summary "
                  f"{run_dir / 'summary.json'}; next: move37 llm eval --checkpoint {run_dir}")


@llm_app.command("eval")
def llm_eval(
    checkpoint: str = typer.Option(..., help="A run directory or checkpoint, or tiny / smollm2 "
                                             "(untrained or warm-start-only), or a model path."),
    task: str | None = typer.Option(None, help="Task (default: the checkpoint's)."),
    split: str = typer.Option("test", help="train, dev or test."),
    n: int = typer.Option(200, help="Problems to score."),
    seed: int = typer.Option(0, help="Problem draw; another seed draws fresh problems."),
    samples: int = typer.Option(0, help="Also sample this many completions per problem: pass@k."),
    temperature: float = typer.Option(1.0, help="Temperature of those samples."),
    simulations: int = typer.Option(0, help="Answer by tree search with this many simulations "
                                            "per step (0 = greedy decoding)."),
    preset: str | None = typer.Option(None, help="Preset for tiny/smollm2 (default llm-TASK-MODEL)."),
    set_: list[str] = typer.Option([], "--set", help="Config override key=value (repeatable)."),
    device: str = typer.Option("auto", help="auto, cpu, cuda."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as a JSON last line."),
) -> None:
    """Score a policy: pass@1 (greedy, or by search) and pass@k (unbiased estimator) on N
    problems of a split."""
    import torch

    if n < 1 or samples < 0 or simulations < 0:
        fail("--n must be >= 1, --samples and --simulations >= 0")
    torch.set_num_threads(2)
    path = Path(checkpoint)
    if path.suffix in (".json", ".safetensors") and not path.exists():
        fail(f"checkpoint {checkpoint} not found")
    with _one_line_errors():
        _eval(checkpoint, path, task, split, n, seed, samples, temperature, simulations, preset,
              set_, device, as_json)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Model, policy and task errors become the CLI's one-line usage errors."""
    from llm_bridge.models import ModelError
    from llm_bridge.policy import PolicyError
    from llm_bridge.tasks import TaskError

    try:
        yield
    except (ModelError, PolicyError, TaskError) as error:
        fail(str(error))


def _eval(checkpoint, path, task, split, n, seed, samples, temperature, simulations, preset,
          set_, device, as_json) -> None:
    from engine.display import quiet_libraries

    quiet_libraries()
    from llm_bridge import tasks
    from llm_bridge.build import build_policy, load_checkpoint_policy
    from llm_bridge.config import resolve_llm
    from llm_bridge.evaluate import evaluate_policy

    from llm_bridge.export import is_export, load_exported

    if is_export(path):
        config, policy = load_exported(path, device=device)
        if task is not None and task != config.task:
            config = resolve_llm(base=_asdict(config), overrides=[f'task="{task}"'])
        config = _inference_overrides(config, set_)
    elif path.exists() and (path.suffix in (".json", ".safetensors") or
                          (path / "checkpoints").is_dir() or (path / "best.json").is_file() or
                          path.with_suffix(".json").is_file()):
        config, policy = load_checkpoint_policy(path, device=device)
        if task is not None and task != config.task:
            config = resolve_llm(base=_asdict(config), overrides=[f'task="{task}"'])
        config = _inference_overrides(config, set_)
    else:
        task_name = task or "arithmetic"
        chosen = preset or _default_preset(task_name, checkpoint)
        config = resolve_llm(chosen, [f'task="{task_name}"', f'model="{checkpoint}"',
                                      f'device="{device}"', *task_overrides(set_)])
        the_task = tasks.make(config.task, **config.task_options)
        policy = build_policy(config, the_task, log=lambda m: typer.echo(m, err=True))
    the_task = tasks.make(config.task, **config.task_options)
    if simulations:
        from llm_bridge.algorithms.search import evaluate_with_search

        report = evaluate_with_search(policy, the_task, config, split=split, n=n, seed=seed,
                                      simulations=simulations)
    else:
        report = evaluate_policy(policy, the_task, split=split, n=n, seed=seed, samples=samples,
                                 temperature=temperature,
                                 max_new_tokens=config.sampling.max_new_tokens)
    report["checkpoint"] = checkpoint
    lenient = report.get("lenient_pass@1")
    typer.echo(f"{config.task} {split} n={report['n']} seed={seed}: pass@1 "
               f"{report['pass@1']:.3f} [{report['pass@1_low']:.3f}, "
               f"{report['pass@1_high']:.3f}] strict"
               + (f", {lenient:.3f} lenient" if lenient is not None else "")
               + (f" ({simulations} simulations/step)" if simulations else ""))
    for k, value in report.get("pass@k", {}).items():
        typer.echo(f"  pass@{k} ({samples} samples at T={temperature:g}): {value:.3f}")
    if as_json:
        typer.echo(json.dumps(report))


def _inference_overrides(config, set_: list[str]):
    """A trained policy's config with `--set` overrides of how it answers (`search.*`,
    `sampling.*`); other keys would describe another model, so they are refused."""
    from llm_bridge.config import resolve_llm

    if not set_:
        return config
    wrong = [item for item in set_ if not item.startswith(("search.", "sampling."))]
    if wrong:
        fail(f"with a trained checkpoint, --set takes search.* and sampling.* keys only "
             f"(got {wrong[0]})")
    return resolve_llm(base=_asdict(config), overrides=task_overrides(set_))


@llm_app.command("export")
def llm_export(
    run: Path = typer.Argument(..., help="A run directory or checkpoint."),
    out: Path = typer.Option(..., help="The directory to write."),
    merged: bool = typer.Option(False, "--merged", help="The whole model, any LoRA adapter "
                                                        "merged in (the default)."),
    adapter: bool = typer.Option(False, "--adapter", help="The PEFT adapter alone."),
    force: bool = typer.Option(False, help="Replace OUT if it holds files."),
) -> None:
    """Write a trained policy as a Hugging Face `save_pretrained` folder (or a PEFT adapter)
    plus its value head: loadable by `transformers` alone, and by `llm eval --checkpoint`."""
    from dataclasses import asdict

    from engine.checkpoint import CheckpointError
    from llm_bridge.build import load_checkpoint_policy
    from llm_bridge.export import export_policy

    if merged and adapter:
        fail("--merged and --adapter exclude each other")
    if out.exists() and any(out.iterdir()) and not force:
        fail(f"{out} is not empty (pass --force to replace it)")
    if not run.exists():
        fail(f"run {run} not found")
    with _one_line_errors():
        try:
            config, policy = load_checkpoint_policy(run, device="cpu")
            export_policy(policy, out, mode="adapter" if adapter else "merged",
                          config=asdict(config))
        except CheckpointError as error:
            fail(str(error))
    typer.echo(f"exported {'the adapter' if adapter else 'the merged model'} of {run} to {out} "
               f"(value head in value_head.safetensors)")


def _asdict(config) -> dict:
    from dataclasses import asdict

    return asdict(config)
