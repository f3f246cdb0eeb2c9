"""Learned reward models as :class:`~fg_env.rewards.base.RewardModel` objects.

A token model (relevance, factuality) reads its classifier at the last token of each segment and
returns the paper's reward: ``+1`` when "no error" is the more likely verdict, ``-1`` otherwise (the
paper's argmax, :data:`SIGN`); ``output="margin"`` gives ``2 * P(no error) - 1`` instead, a smoother
signal in the same ``[-1, 1]`` bounds. A pairwise model (completeness, preference) reads a scalar at
the answer's last token, normalised by the mean and std of its raw scores over its training answers
(saved with the checkpoint) and clipped to ``+/- clip`` (5 by default) so that its bounds are finite.

Scoring is batched: all requests of a call are planned into rows (:func:`~fg_env.rewards.learned.
encoding.plan_rows`: identical requests and an answer's prefixes share one row), the rows are sorted
by length and run ``batch_size`` at a time, one padded forward pass each. A batch of environment
steps is therefore one forward pass, not one per answer or segment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import torch

from fg_env.atomic import atomic_directory
from fg_env.errors import InvalidTypeError, InvalidValueError
from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore, TaskExample
from fg_env.rewards.learned.components import NO_ERROR, component
from fg_env.rewards.learned.config import RewardModelConfig
from fg_env.rewards.learned.encoding import InputEncoder, check_answer_causal, plan_rows
from fg_env.rewards.learned.network import RewardNetwork
from fg_env.types import Granularity, QAExample

SIGN: Literal["sign", "margin"] = "sign"
MARGIN = "margin"
OUTPUTS = (SIGN, MARGIN)


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class LearnedRewardModel(RewardModel):
    """An encoder reward model trained from fine-grained feedback (``fg-env rm train``).

    Args:
        network: the encoder and its head.
        tokenizer: the backbone's fast tokenizer.
        config: what the checkpoint says about the model (component, labels, normalisation...).
        name: the reward's name in the environment; by default the component's (``"relevance"``...),
            so the paper's weights apply.
        output: token models only: ``"sign"`` (the paper's +1/-1) or ``"margin"`` (``2 P(no error) - 1``).
        batch_size: rows per forward pass.
        device: where the network runs (CUDA when available).

    Example (a folder made by ``fg-env rm train --component relevance --out DIR``; here a tiny
    random encoder trained for one epoch):
        >>> import tempfile
        >>> from fg_env.rewards.learned.testing import tiny_backbone
        >>> from fg_env.rewards.learned.config import TrainingConfig
        >>> from fg_env.rewards.learned.data import load_feedback_data
        >>> from fg_env.rewards.learned.train import train_reward_model
        >>> folder = tempfile.mkdtemp()
        >>> config = TrainingConfig("relevance", backbone=tiny_backbone(tempfile.mkdtemp()), epochs=1)
        >>> _ = train_reward_model(config, load_feedback_data("relevance", "synthetic", questions="0:4"), folder, progress=False)
        >>> model = load_reward_model(folder)
        >>> from fg_env.rewards.base import ScoringRequest
        >>> from fg_env.types import Passage, QAExample, Span
        >>> example = QAExample("q", "Who won?", (Passage("Ann", ("Ann won.",)),), ("Ann won.",))
        >>> [score] = model.score([ScoringRequest(example, "Ann won.", Span(0, 8))])
        >>> score.value in (-1.0, 1.0)  # the paper's sign output
        True
        >>> model.version.startswith("learned-relevance-")  # the checkpoint's identity, which results record
        True
    """

    def __init__(
        self,
        network: RewardNetwork,
        tokenizer: Any,
        config: RewardModelConfig,
        *,
        name: str | None = None,
        output: Literal["sign", "margin"] = SIGN,
        batch_size: int = 32,
        device: str | torch.device | None = None,
    ) -> None:
        self.spec = component(config.component)
        if output not in OUTPUTS:
            raise InvalidValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if self.spec.kind == "pairwise" and not config.normalisation:
            raise InvalidValueError(
                f"a {config.component} model needs normalisation statistics (mean, std) in its config"
            )
        self.config = config
        self.name = name or config.component
        self.granularity = self.spec.granularity
        self.output = output
        self.batch_size = batch_size
        self.device = torch.device(device or default_device())
        self.network = network.to(self.device).eval()
        self.encoder = InputEncoder(tokenizer, config.max_length, config.uses_passages)
        check_answer_causal(self.network.backbone, self.encoder.use_token_types)
        if self.spec.kind == "token":
            self.bounds = (-1.0, 1.0)
        else:
            self.bounds = (-float(config.clip), float(config.clip))
        self.forward_calls = 0  # network forward passes so far (the speed benchmark reads it)
        self._version: str | None = None  # the checkpoint's digest, computed when first asked (version)

    @property
    def version(self) -> str:  # type: ignore[override]  # read-only: computed
        """The checkpoint's identity, ``learned-COMPONENT-DIGEST``: a digest of its weights and its config (which
        holds its training settings and data), so results record which checkpoint scored them and any retraining
        that changes a weight changes it. Computed once, on first use (one pass over the weights)."""
        if self._version is None:
            digest = hashlib.sha256(json.dumps(self.config.to_dict(), sort_keys=True, default=str).encode())
            for name, tensor in sorted(self.network.state_dict().items()):
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
            self._version = f"learned-{self.config.component}-{digest.hexdigest()[:12]}"
        return self._version

    # ------------------------------------------------------------------------------- persistence

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> LearnedRewardModel:
        """Load a checkpoint folder written by :meth:`save` (or ``fg-env rm train``)."""
        folder = Path(path)
        config = RewardModelConfig.load(folder)
        spec = component(config.component)
        num_outputs = len(config.labels) if spec.kind == "token" else 1
        device = kwargs.get("device") or default_device()
        network, tokenizer = RewardNetwork.load(folder, num_outputs, device)
        return cls(network, tokenizer, config, **kwargs)

    def save(self, path: str | Path) -> None:
        """Write the checkpoint folder; it appears complete or not at all (it replaces any old one)."""
        with atomic_directory(path) as folder:
            self.network.save(folder, self.encoder.tokenizer)
            self.config.save(folder)

    # ------------------------------------------------------------------------------- scoring

    def check_example(self, example: TaskExample) -> None:
        if not isinstance(example, QAExample):
            raise InvalidTypeError(
                f"the learned reward model {self.name!r} reads a question and its passages (fg_env.types.QAExample), "
                f"which {type(example).__name__} examples do not have"
            )

    @torch.no_grad()
    def raw_outputs(self, requests: Sequence[ScoringRequest]) -> np.ndarray:
        """Head outputs per request: class probabilities ``(n, classes)`` or raw scores ``(n,)``."""
        if not requests:
            return np.zeros((0, len(self.config.labels))) if self.spec.kind == "token" else np.zeros(0)
        # QAExamples: check_example made sure of it when the environment was built.
        pairs = [(self.encoder.context(cast(QAExample, r.example)), r.answer) for r in requests]
        plan = plan_rows(self.encoder, pairs)
        # Sort rows by length so each forward pass pads as little as possible, then cut into chunks.
        order = sorted(range(len(plan.rows)), key=lambda i: len(plan.rows[i]))
        chunks = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        where: dict[int, tuple[int, int]] = {}  # row -> (chunk, index within the chunk)
        for c, chunk in enumerate(chunks):
            for k, row in enumerate(chunk):
                where[row] = (c, k)
        members: list[list[int]] = [[] for _ in chunks]  # the requests each chunk answers
        for i, (row, _) in enumerate(plan.positions):
            members[where[row][0]].append(i)
        dtype = next(self.network.parameters()).dtype
        outputs = torch.zeros((len(requests), self.network.head.out_features), dtype=torch.float32)
        for chunk, answered in zip(chunks, members):
            batch = self.encoder.collate([plan.rows[i] for i in chunk], dtype, self.device)
            positions = torch.tensor(
                [(where[plan.positions[i][0]][1], plan.positions[i][1]) for i in answered], device=self.device
            )
            self.forward_calls += 1
            outputs[answered] = self.network(positions=positions, **batch).float().cpu()
        if self.spec.kind == "token":
            return torch.softmax(outputs, dim=-1).numpy()
        return outputs[:, 0].numpy()

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        """A pairwise model's raw scores, standardised by its training statistics and clipped."""
        stats = self.config.normalisation or {"mean": 0.0, "std": 1.0}
        z = (np.asarray(raw, dtype=np.float64) - stats["mean"]) / max(stats["std"], 1e-8)
        return np.clip(z, -self.config.clip, self.config.clip)

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        """Score every request in as few padded forward passes as the batch size allows."""
        raw = self.raw_outputs(requests)
        if self.spec.kind == "pairwise":
            return [SegmentScore(float(v)) for v in self.normalise(raw)]
        scores = []
        for probs in raw:
            p_ok = float(probs[0])
            error = p_ok < 0.5
            label = self.config.labels[1 + int(np.argmax(probs[1:]))] if error else None
            value = (-1.0 if error else 1.0) if self.output == SIGN else float(np.clip(2.0 * p_ok - 1.0, -1.0, 1.0))
            scores.append(SegmentScore(value, label))
        return scores

    def __repr__(self) -> str:
        return (
            f"LearnedRewardModel(name={self.name!r}, component={self.config.component!r}, "
            f"granularity={str(Granularity(self.granularity))!r}, backbone={self.config.backbone!r})"
        )


def load_reward_model(path: str | Path, **kwargs: Any) -> LearnedRewardModel:
    """Load a learned reward model from the folder ``fg-env rm train --out`` wrote.

    Keyword arguments go to :class:`LearnedRewardModel` (``name``, ``output``, ``batch_size``, ``device``).
    """
    return LearnedRewardModel.load(path, **kwargs)


__all__ = ["LearnedRewardModel", "load_reward_model", "NO_ERROR", "SIGN", "MARGIN"]
