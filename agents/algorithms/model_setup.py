"""Real models in PPO: mixed precision, gradient checkpointing, LoRA adapters, and a memory check first.

* **Precision** (``PPOConfig.precision``): ``bf16`` or ``fp16`` run the forward passes (generation, the
  rollout's log-probs and values, the updates) under ``torch.autocast``; weights, gradients and Adam stay
  in float32 (mixed precision), log-probs are taken in float32. ``fp16`` needs a CUDA device (and gets a
  gradient scaler); ``bf16`` needs a device that supports it (any recent CPU, Ampere GPUs and later).
* **Gradient checkpointing**: the model's own (``gradient_checkpointing_enable``); Hugging Face models
  checkpoint only in training mode and then keep no KV cache, so the update runs prompt and response as
  one sequence, with dropout off (as TRL does) so that training mode computes what evaluation mode does.
* **LoRA** through peft (``pip install "fg-env[peft]"``): adapters on ``lora_target_modules`` (peft's
  default for the architecture when empty); the reference policy is the same model with its adapters
  disabled, not a second copy, and only the adapters (and the value head) are trained and held by Adam.
  The saved policy has the adapters merged in: a plain model folder, loadable without peft.
* **Memory**: :func:`check_memory` estimates what one PPO run holds (weights, gradients, Adam's two moments,
  the reference copy) from the model's config, before any weight loads, and stops a run that cannot fit.

Example:
    >>> with autocast("fp32", "cpu"):
    ...     pass
    >>> training_bytes(1_000_000, trainable=1_000_000, reference_copy=True)
    20000000
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from fg_env.errors import InvalidValueError, MissingDependencyError, ModelTooLargeError

__all__ = [
    "PRECISIONS",
    "adapters_disabled",
    "apply_lora",
    "autocast",
    "check_memory",
    "check_model_options",
    "check_precision",
    "count_parameters",
    "disable_dropout",
    "enable_checkpointing",
    "merged_for_saving",
    "training_bytes",
]

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(precision: str, device: torch.device | str) -> None:
    """Stop, naming the problem, when ``device`` cannot run ``precision``'s autocast.

    Example:
        >>> check_precision("fp16", "cpu")
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: precision fp16 needs a CUDA device (this run is on cpu); use bf16 on CPUs
    """
    if precision not in PRECISIONS:
        raise InvalidValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    kind = torch.device(device).type
    if precision == "fp16" and kind != "cuda":
        raise InvalidValueError(f"precision fp16 needs a CUDA device (this run is on {kind}); use bf16 on CPUs")
    if precision == "bf16" and kind == "cuda" and not torch.cuda.is_bf16_supported():
        raise InvalidValueError("precision bf16 is not supported by this GPU; use fp16")


def autocast(precision: str, device: torch.device | str) -> contextlib.AbstractContextManager[Any]:
    """``torch.autocast`` at ``precision`` on ``device``'s type (nothing for fp32)."""
    dtype = PRECISIONS[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def disable_dropout(model: nn.Module) -> None:
    """Every ``nn.Dropout`` of ``model`` to p = 0, so training mode (needed by gradient checkpointing)
    computes what evaluation mode computes (TRL does the same for RLHF)."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0


def enable_checkpointing(model: nn.Module) -> None:
    """The model's own activation (gradient) checkpointing, non-reentrant (transformers 5 renamed it)."""
    enable = getattr(model, "activation_checkpointing_enable", None)
    if enable is not None:
        enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})  # type: ignore[operator]


# ----------------------------------------------------------------------------------------------------
# LoRA
# ----------------------------------------------------------------------------------------------------


def _linear_names(model: nn.Module) -> list[str]:
    """The last name part of every linear-like layer (nn.Linear, GPT-2's Conv1D): what LoRA can target."""
    names = set()
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) or type(module).__name__ == "Conv1D":
            names.add(name.rsplit(".", 1)[-1])
    return sorted(names)


def check_lora_targets(model: nn.Module, targets: Sequence[str]) -> None:
    """A target that names no layer of ``model`` stops the run, listing the layers LoRA could target.

    Example:
        >>> from transformers import GPT2Config, GPT2LMHeadModel
        >>> lm = GPT2LMHeadModel(GPT2Config(vocab_size=11, n_embd=8, n_layer=1, n_head=2))
        >>> check_lora_targets(lm, ["q_proj"])
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: LoRA target module(s) q_proj match no layer of GPT2LMHeadModel; its linear layers: c_attn, c_fc, c_proj, lm_head
    """
    available = _linear_names(model)
    missing = [t for t in targets if t not in available]
    if missing:
        raise InvalidValueError(
            f"LoRA target module(s) {', '.join(missing)} match no layer of {type(model).__name__}; "
            f"its linear layers: {', '.join(available)}"
        )


def apply_lora(model: nn.Module, rank: int, alpha: int, targets: Sequence[str] | None) -> Any:
    """``model`` with LoRA adapters (peft), its base weights frozen. Returns the peft model; the
    adapted Hugging Face model itself (same class, same forward) is ``peft_model.base_model.model``."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as error:
        raise MissingDependencyError('LoRA needs peft: pip install "fg-env[peft]" (or pip install peft)') from error
    if targets:
        check_lora_targets(model, targets)
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=list(targets) if targets else None)
    try:
        return get_peft_model(model, config)
    except ValueError as error:  # peft has no default targets for this architecture
        raise InvalidValueError(
            f"{error}; name the layers with --lora-target-modules (linear layers of {type(model).__name__}: "
            f"{', '.join(_linear_names(model))})"
        ) from None


@contextlib.contextmanager
def adapters_disabled(peft_model: Any) -> Iterator[None]:
    """The base model without its adapters: LoRA's reference policy, at no extra memory."""
    with peft_model.disable_adapter():
        yield


def merged_for_saving(peft_model: Any) -> nn.Module:
    """A plain model with the adapters merged into its weights (the peft model keeps its adapters)."""
    import copy

    return copy.deepcopy(peft_model).merge_and_unload()


# ----------------------------------------------------------------------------------------------------
# memory
# ----------------------------------------------------------------------------------------------------


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """``(all, trainable)`` parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    return total, sum(p.numel() for p in model.parameters() if p.requires_grad)


def training_bytes(parameters: int, *, trainable: int, reference_copy: bool, separate_critic: bool = False) -> int:
    """Bytes PPO holds for a model of ``parameters`` (float32): weights, a gradient and Adam's two moments
    per trainable parameter, the reference copy and a separate critic. Activations come on top."""
    weights = parameters * (2 if separate_critic else 1)
    trained = trainable * (2 if separate_critic else 1)
    return 4 * (weights + 3 * trained + (parameters if reference_copy else 0))


def available_bytes(device: torch.device | str) -> int:
    """Free memory of ``device``: the GPU's free memory, or the machine's available RAM."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    import psutil

    return int(psutil.virtual_memory().available)


def meta_model(path: str) -> nn.Module:
    """The model of a folder, built from its config on the meta device: its layers, no weights, no memory."""
    from transformers import AutoConfig

    from agents.policies.policy import auto_model_class

    config = AutoConfig.from_pretrained(path, local_files_only=True)
    with torch.device("meta"):
        return auto_model_class(config).from_config(config)


def check_model_options(path: str, config: Any, device: torch.device | str) -> dict[str, int]:
    """Everything about a policy and PPO's model options that can fail, checked before any weight loads:
    the device's precision, peft for LoRA, the LoRA target layers, and the memory the run needs.
    ``config`` is a :class:`~agents.algorithms.ppo.PPOConfig`."""
    check_precision(config.precision, device)
    model = meta_model(str(path))
    if config.lora_rank:
        try:
            import peft  # noqa: F401
        except ImportError:
            raise InvalidValueError(
                '--lora-rank needs peft: pip install "fg-env[peft]" (or pip install peft)'
            ) from None
        if config.lora_targets:
            check_lora_targets(model, config.lora_targets)
    return check_memory(
        str(path),
        sum(p.numel() for p in model.parameters()),
        lora=bool(config.lora_rank),
        separate_critic=config.value_model == "separate",
        device=device,
    )


def check_memory(
    path: str, parameters: int, *, lora: bool, separate_critic: bool, device: torch.device | str
) -> dict[str, int]:
    """Stop before loading the policy at ``path`` (of ``parameters``) whose PPO run cannot fit on ``device``:
    the estimate of :func:`training_bytes` (LoRA: the adapters are about 1% of the weights) against the free
    memory."""
    trainable = parameters // 100 if lora else parameters
    needed = training_bytes(parameters, trainable=trainable, reference_copy=not lora, separate_critic=separate_critic)
    free = available_bytes(device)
    if needed > free:
        raise ModelTooLargeError(
            f"the policy at {path!r} has {parameters / 1e6:.0f}M parameters: PPO needs about {needed / 2**30:.1f} GiB "
            f"for weights, gradients, Adam and the reference{' (with LoRA)' if lora else ''}, before activations, "
            f"but {torch.device(device).type} has {free / 2**30:.1f} GiB free; try --lora-rank 8, a smaller model or "
            "a larger device"
        )
    return {"parameters": parameters, "estimated_bytes": needed, "free_bytes": free}
