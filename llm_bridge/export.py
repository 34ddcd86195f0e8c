"""Export a trained policy in Hugging Face format, and load an export back.

`move37 llm export RUN --out DIR` writes what other tools load without move37:

* `--merged` (the default): a `save_pretrained` folder of the whole model, a LoRA adapter
  merged into its weights first, with the tokenizer (a Hugging Face tokenizer, or the tiny
  model's `char_tokenizer.json`): `AutoModelForCausalLM.from_pretrained(DIR)`.
* `--adapter`: the PEFT adapter alone (`adapter_config.json`, `adapter_model.safetensors`)
  with the tokenizer; `AutoModelForCausalLM.from_pretrained(DIR)` (with `peft` installed)
  or `PeftModel.from_pretrained(base, DIR)` applies it to the base the run started from,
  whose path or hub name `adapter_config.json` records.

Beside either, `value_head.safetensors` holds the value head (a linear layer over the last
hidden state at the end of the prompt and the text's confidence features, see
`LLMPolicy`), and `move37.json` the run's config, so that `move37 llm eval --checkpoint DIR`
scores the export with the run's task, prompt style and search settings.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from engine.checkpoint import CheckpointError
from llm_bridge.models import save_pretrained
from llm_bridge.policy import LLMPolicy
from llm_bridge.tiny import CharTokenizer

EXPORT_META = "move37.json"
VALUE_HEAD_FILE = "value_head.safetensors"
MODES = ("merged", "adapter")


def export_policy(policy: LLMPolicy, out: Path | str, *, mode: str = "merged",
                  config: dict[str, Any] | None = None) -> Path:
    """Write `policy` to `out` (see the module docstring); returns `out`.

    Args:
        policy: the policy (a merged export folds its adapter in: do not train it after).
        out: the directory to write (replaced if it exists).
        mode: `merged` or `adapter`.
        config: the run's resolved config, kept in `move37.json`.

    Raises:
        CheckpointError: `adapter` asked of a policy without one, or an unknown mode.
    """
    out = Path(out)
    if mode not in MODES:
        raise CheckpointError(f"export mode must be one of {MODES}, got {mode!r}")
    if mode == "adapter":
        if not policy.uses_lora:
            raise CheckpointError("--adapter needs a run trained with a LoRA adapter "
                                  "(lora.rank > 0); export it --merged")
        if out.exists():
            shutil.rmtree(out)
        policy.model.save_pretrained(str(out))
        if isinstance(policy.codec, CharTokenizer):
            policy.codec.save(out)
        else:
            policy.codec.tokenizer.save_pretrained(str(out))  # type: ignore[attr-defined]
    else:
        model = policy.model.merge_and_unload() if policy.uses_lora else policy.model
        save_pretrained(model, policy.codec, out)
    head = {k: v.detach().cpu().contiguous() for k, v in policy.value_head.state_dict().items()}
    save_file(head, str(out / VALUE_HEAD_FILE))
    (out / EXPORT_META).write_text(json.dumps(
        {"kind": "llm-export", "mode": mode, "prompt_style": policy.prompt_style,
         "shots": policy.shots, "spec": policy.spec, "config": config or {}},
        indent=1, sort_keys=True, default=str))
    return out


def is_export(path: Path | str) -> bool:
    """Whether `path` is a directory `export_policy` wrote."""
    return (Path(path) / EXPORT_META).is_file()


def load_exported(path: Path | str, *, device: str = "auto"):
    """`(config, policy)` of an export: the model loaded from the folder by `transformers`
    (the adapter applied to its base for an adapter export), the value head restored.

    Raises:
        CheckpointError: unreadable metadata.
    """
    from llm_bridge.config import resolve_llm
    from llm_bridge.models import check_device, load_policy

    path = Path(path)
    try:
        meta = json.loads((path / EXPORT_META).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path / EXPORT_META} is unreadable: {error}") from None
    config = resolve_llm(base=meta.get("config") or None,
                         overrides=[f'model="{path}"', "lora.rank=0", f'device="{device}"'])
    policy = load_policy(str(path), spec={"model": str(path)}, prompt_style=meta["prompt_style"],
                         shots=int(meta.get("shots", 0)), device=check_device(device))
    policy.value_head.load_state_dict(load_file(str(path / VALUE_HEAD_FILE)))
    return config, policy
