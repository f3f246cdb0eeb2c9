"""Train a learned reward model, top to bottom in one loop.

Token models (relevance, factuality): each training row is a whole answer; the classifier is read at
the last token of every labelled segment, and the loss is the cross-entropy over those positions.
Because attention over the answer is causal (:mod:`~fg_env.rewards.learned.encoding`), the state at a
segment's end sees only the answer up to it: exactly what the environment will show the model.

Pairwise models (completeness, preference): a batch holds all the answers of a few questions; each
answer's score is read at its last token, and the loss is the Bradley-Terry negative log-likelihood
``-log sigmoid(s_better - s_worse)`` averaged over the batch's pairs. After training, the mean and
std of the raw scores over the training answers are saved with the checkpoint and applied on load.

The loop saves the weights and ``training_state.pt`` (optimizer, schedule, epoch) after every epoch,
so ``resume=True`` continues an interrupted run from its last finished epoch; the state file is
removed when training completes.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from fg_env.atomic import atomic_torch_save
from fg_env.rewards.base import ScoringRequest
from fg_env.rewards.learned.components import component
from fg_env.rewards.learned.config import DEFAULT_CLIP, RewardModelConfig, TrainingConfig, default_backbone
from fg_env.rewards.learned.data import FeedbackData, LabelledAnswer, RankedAnswers
from fg_env.rewards.learned.encoding import EncodedRow, InputEncoder, check_answer_causal
from fg_env.rewards.learned.model import LearnedRewardModel, default_device
from fg_env.rewards.learned.network import RewardNetwork, load_backbone
from fg_env.text import segments_at
from fg_env.types import Granularity

STATE_FILE = "training_state.pt"


@dataclass
class TrainingResult:
    """The trained model and its loss curve (one value per optimisation step, and per epoch)."""

    model: LearnedRewardModel
    step_losses: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)


@dataclass
class _TokenExample:
    row: EncodedRow
    targets: list[tuple[int, int]]  # (token index, class index)


@dataclass
class _RankedExample:
    rows: list[EncodedRow]
    positions: list[int]  # token index of each answer's score
    pairs: list[tuple[int, int]]


def _max_length(config: TrainingConfig, tokenizer: Any, backbone: torch.nn.Module) -> int:
    if config.max_length is not None:
        return config.max_length
    limits = [getattr(backbone.config, "max_position_embeddings", None), getattr(tokenizer, "model_max_length", None)]
    usable = [int(x) for x in limits if isinstance(x, int) and 0 < x < 100_000]
    return min(usable) if usable else 512


def _prepare(data: FeedbackData, encoder: InputEncoder) -> list[_TokenExample] | list[_RankedExample]:
    """Tokenise every training item once."""
    spec = component(data.component)
    if spec.kind == "token":
        items = [i for i in data.items if isinstance(i, LabelledAnswer)]
        rows = encoder.encode([(encoder.context(i.example), i.answer) for i in items])
        prepared: list = []
        for item, row in zip(items, rows):
            targets = [
                (row.position(seg.end), spec.labels.index(label))
                for seg, label in zip(item.segments, item.labels)
                if label is not None
            ]
            if targets:
                prepared.append(_TokenExample(row, targets))
        return prepared
    ranked = [i for i in data.items if isinstance(i, RankedAnswers)]
    prepared = []
    for item in ranked:
        rows = encoder.encode([(encoder.context(item.example), a) for a in item.answers])
        positions = [row.position(len(a)) for row, a in zip(rows, item.answers)]
        prepared.append(_RankedExample(rows, positions, list(item.pairs)))
    return prepared


def _token_loss(network: RewardNetwork, encoder: InputEncoder, batch: list[_TokenExample], dtype, device) -> torch.Tensor:
    inputs = encoder.collate([b.row for b in batch], dtype, device)
    positions = torch.tensor([(k, t) for k, b in enumerate(batch) for t, _ in b.targets], device=device)
    targets = torch.tensor([c for b in batch for _, c in b.targets], device=device)
    logits = network(positions=positions, **inputs)
    return F.cross_entropy(logits.float(), targets)


def _pairwise_loss(network: RewardNetwork, encoder: InputEncoder, batch: list[_RankedExample], dtype, device) -> torch.Tensor:
    rows = [row for b in batch for row in b.rows]
    inputs = encoder.collate(rows, dtype, device)
    offsets, start = [], 0
    for b in batch:
        offsets.append(start)
        start += len(b.rows)
    positions = torch.tensor(
        [(offsets[k] + j, p) for k, b in enumerate(batch) for j, p in enumerate(b.positions)], device=device
    )
    scores = network(positions=positions, **inputs)[:, 0].float()
    better = torch.tensor([offsets[k] + w for k, b in enumerate(batch) for w, _ in b.pairs], device=device)
    worse = torch.tensor([offsets[k] + l for k, b in enumerate(batch) for _, l in b.pairs], device=device)
    return -F.logsigmoid(scores[better] - scores[worse]).mean()


def _optimizer(network: RewardNetwork, config: TrainingConfig) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for name, parameter in network.named_parameters():
        # As in BERT fine-tuning: no weight decay on biases and LayerNorm weights.
        (no_decay if parameter.ndim < 2 else decay).append(parameter)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.learning_rate)


def _schedule(optimizer: torch.optim.Optimizer, total: int, warmup: int) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _normalisation(model: LearnedRewardModel, data: FeedbackData) -> dict[str, float]:
    """Mean and std of the raw scores of every training answer."""
    requests = []
    for item in data.items:
        assert isinstance(item, RankedAnswers)
        for answer in item.answers:
            whole = segments_at(answer, Granularity.EPISODE)[0]
            requests.append(ScoringRequest(item.example, answer[: whole.end], whole))
    raw = model.raw_outputs(requests)
    std = float(raw.std()) if len(raw) > 1 else 1.0
    return {"mean": float(raw.mean()), "std": std if std > 1e-6 else 1.0}


def train_reward_model(
    config: TrainingConfig,
    data: FeedbackData,
    out: str | Path | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    device: str | torch.device | None = None,
    on_step: Callable[[int, float], None] | None = None,
) -> TrainingResult:
    """Train ``config.component`` on ``data``; save to ``out`` (a folder) when given.

    Example (tiny, on the built-in world)::

        >>> from fg_env.rewards.learned.data import load_feedback_data       # doctest: +SKIP
        >>> data = load_feedback_data("relevance", "synthetic", questions="0:20")  # doctest: +SKIP
        >>> result = train_reward_model(TrainingConfig("relevance", epochs=1), data, "runs/rel")  # doctest: +SKIP
    """
    if data.component != config.component:
        raise ValueError(f"data is for {data.component!r} but the config trains {config.component!r}")
    spec = component(config.component)
    if not data.items:
        raise ValueError(f"no training items for {config.component!r} in {data.source}")
    device = torch.device(device or default_device())
    folder = Path(out) if out is not None else None
    state_path = folder / STATE_FILE if folder is not None else None

    torch.manual_seed(config.seed)
    backbone_path = config.backbone or default_backbone()
    backbone, tokenizer = load_backbone(backbone_path, device)
    max_length = _max_length(config, tokenizer, backbone)
    num_outputs = len(spec.labels) if spec.kind == "token" else 1
    network = RewardNetwork(backbone, num_outputs, config.dropout).to(device)
    encoder = InputEncoder(tokenizer, max_length, spec.uses_passages)
    check_answer_causal(backbone, encoder.use_token_types)
    examples = _prepare(data, encoder)
    if not examples:
        raise ValueError(f"no labelled segment or ranked pair for {config.component!r} in {data.source}")

    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    optimizer = _optimizer(network, config)
    schedule = _schedule(optimizer, total_steps, int(config.warmup_ratio * total_steps))
    result_losses: list[float] = []
    epoch_losses: list[float] = []
    first_epoch = 0
    if resume and state_path is not None and state_path.is_file():
        state = torch.load(state_path, map_location=device, weights_only=False)
        if state["config"] != asdict(config):
            raise ValueError(f"{state_path} was written by a run with other settings; start afresh without --resume")
        network.load_state_dict(state["network"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        first_epoch, result_losses, epoch_losses = state["epoch"], state["step_losses"], state["epoch_losses"]

    dtype = next(network.parameters()).dtype
    loss_fn = _token_loss if spec.kind == "token" else _pairwise_loss
    for epoch in range(first_epoch, config.epochs):
        network.train()
        # Seeded per epoch, so a resumed run shuffles and drops out exactly as an uninterrupted one.
        torch.manual_seed(config.seed * 1_000_003 + epoch)
        order = list(range(len(examples)))
        random.Random(f"{config.seed}:{epoch}").shuffle(order)
        bar = tqdm(
            range(steps_per_epoch),
            desc=f"{config.component} epoch {epoch + 1}/{config.epochs}",
            disable=not progress,
            unit="step",
        )
        running = []
        for step in bar:
            batch = [examples[i] for i in order[step * config.batch_size : (step + 1) * config.batch_size]]
            loss = loss_fn(network, encoder, batch, dtype, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), config.max_grad_norm)
            optimizer.step()
            schedule.step()
            value = loss.item()
            running.append(value)
            result_losses.append(value)
            bar.set_postfix(loss=f"{sum(running[-20:]) / len(running[-20:]):.4f}")
            if on_step is not None:
                on_step(len(result_losses), value)
        epoch_losses.append(sum(running) / len(running))
        if folder is not None:
            # One file, written atomically, holds the weights and the optimiser of the same epoch, so a
            # run killed at any moment resumes from a consistent state.
            atomic_torch_save(
                {
                    "network": network.state_dict(),
                    "config": asdict(config),
                    "optimizer": optimizer.state_dict(),
                    "schedule": schedule.state_dict(),
                    "epoch": epoch + 1,
                    "step_losses": result_losses,
                    "epoch_losses": epoch_losses,
                },
                state_path,
            )

    network.eval()
    model_config = RewardModelConfig(
        component=spec.name,
        backbone=str(backbone_path),
        labels=list(spec.labels),
        uses_passages=spec.uses_passages,
        max_length=max_length,
        normalisation={"mean": 0.0, "std": 1.0} if spec.kind == "pairwise" else None,
        clip=DEFAULT_CLIP,
        label_rule=data.label_rule.to_dict(),
        training={"config": asdict(config), "data": data.describe(), "epoch_losses": epoch_losses},
    )
    model = LearnedRewardModel(network, tokenizer, model_config, device=device)
    if spec.kind == "pairwise":
        model.config.normalisation = _normalisation(model, data)
    if folder is not None:
        model.save(folder)
        if state_path is not None and state_path.exists():
            state_path.unlink()
    return TrainingResult(model, result_losses, epoch_losses)
