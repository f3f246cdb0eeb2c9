"""Train a learned reward model: set up, resume, one epoch at a time, save.

Token models (relevance, factuality): each training row is a whole answer; the classifier is read at
the last token of every labelled segment, and the loss is the cross-entropy over those positions.
Because attention over the answer is causal (:mod:`~fg_env.rewards.learned.encoding`), the state at a
segment's end sees only the answer up to it: exactly what the environment will show the model.

Pairwise models (completeness, preference): a batch holds all the answers of a few questions; each
answer's score is read at its last token, and the loss is the Bradley-Terry negative log-likelihood
``-log sigmoid(s_better - s_worse)`` averaged over the batch's pairs. After training, the mean and
std of the raw scores over the training answers are saved with the checkpoint and applied on load.

After every epoch the loop writes a checkpoint (:mod:`fg_env.checkpoint`: weights, optimiser, schedule,
RNG, losses) to ``checkpoint.pt`` in the output folder, so ``resume=True`` continues an interrupted run
from its last finished epoch to the same weights; the finished model replaces the folder, checkpoint
included. The optimiser, schedule and checkpoint are the shared ones of :mod:`fg_env.training`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from fg_env.checkpoint import CHECKPOINT_NAME, check_settings, load_checkpoint, save_checkpoint
from fg_env.errors import CheckpointError, InvalidValueError
from fg_env.rewards.base import ScoringRequest
from fg_env.rewards.learned.components import component
from fg_env.rewards.learned.config import DEFAULT_CLIP, RewardModelConfig, TrainingConfig, default_backbone
from fg_env.rewards.learned.data import FeedbackData, LabelledAnswer, RankedAnswers
from fg_env.rewards.learned.encoding import EncodedRow, InputEncoder, check_answer_causal
from fg_env.rewards.learned.model import LearnedRewardModel, default_device
from fg_env.rewards.learned.network import RewardNetwork, load_backbone
from fg_env.text import segments_at
from fg_env.training import make_schedule, parameter_groups, restore_training_state, training_state
from fg_env.types import Granularity

KIND = "reward-model"  # the kind of checkpoint this trainer writes


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
    pairwise: list[_RankedExample] = []
    for ranked_item in ranked:
        rows = encoder.encode([(encoder.context(ranked_item.example), a) for a in ranked_item.answers])
        positions = [row.position(len(a)) for row, a in zip(rows, ranked_item.answers)]
        pairwise.append(_RankedExample(rows, positions, list(ranked_item.pairs)))
    return pairwise


def _token_loss(
    network: RewardNetwork, encoder: InputEncoder, batch: list[_TokenExample], dtype, device
) -> torch.Tensor:
    inputs = encoder.collate([b.row for b in batch], dtype, device)
    positions = torch.tensor([(k, t) for k, b in enumerate(batch) for t, _ in b.targets], device=device)
    targets = torch.tensor([c for b in batch for _, c in b.targets], device=device)
    logits = network(positions=positions, **inputs)
    return F.cross_entropy(logits.float(), targets)


def _pairwise_loss(
    network: RewardNetwork, encoder: InputEncoder, batch: list[_RankedExample], dtype, device
) -> torch.Tensor:
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
    worse = torch.tensor([offsets[k] + lose for k, b in enumerate(batch) for _, lose in b.pairs], device=device)
    return -F.logsigmoid(scores[better] - scores[worse]).mean()


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


# ----------------------------------------------------------------------------------- the loop, step by step


@dataclass
class _Run:
    """What a training run works with; a resumed run builds the same again, then loads the checkpoint."""

    spec: Any
    network: RewardNetwork
    tokenizer: Any
    encoder: InputEncoder
    backbone: str
    max_length: int
    examples: list
    device: torch.device


@dataclass
class _Progress:
    """How far a run has come: the epochs done and the losses so far (what a checkpoint's metrics hold)."""

    epochs: int = 0
    step_losses: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)


def _check_inputs(config: TrainingConfig, data: FeedbackData) -> None:
    if data.component != config.component:
        raise InvalidValueError(f"data is for {data.component!r} but the config trains {config.component!r}")
    if not data.items:
        raise InvalidValueError(f"no training items for {config.component!r} in {data.source}")


def _set_up(config: TrainingConfig, data: FeedbackData, device: torch.device) -> _Run:
    """The backbone with a fresh head (seeded), its encoder, and the tokenised training items."""
    spec = component(config.component)
    torch.manual_seed(config.seed)
    backbone_path = str(config.backbone or default_backbone())
    backbone, tokenizer = load_backbone(backbone_path, device)
    max_length = _max_length(config, tokenizer, backbone)
    num_outputs = len(spec.labels) if spec.kind == "token" else 1
    network = RewardNetwork(backbone, num_outputs, config.dropout).to(device)
    encoder = InputEncoder(tokenizer, max_length, spec.uses_passages)
    check_answer_causal(backbone, encoder.use_token_types)
    examples = _prepare(data, encoder)
    if not examples:
        raise InvalidValueError(f"no labelled segment or ranked pair for {config.component!r} in {data.source}")
    return _Run(spec, network, tokenizer, encoder, backbone_path, max_length, examples, device)


def _optimiser_and_schedule(
    network: RewardNetwork, config: TrainingConfig, total_steps: int
) -> tuple[torch.optim.AdamW, Any]:
    """AdamW without decay on biases and LayerNorms; linear warm-up, then linear decay to 0.

    The schedule is the one this trainer always had: warm-up ``(k + 1) / warmup`` on update ``k``, one
    update at the peak, then ``(total - k) / (total - warmup)``. In transformers' terms that is a
    warm-up/stable/decay schedule with one stable step (plain ``"linear"`` would spend no update at
    the peak and end at exactly 0: a wasted last step).
    """
    optimizer = torch.optim.AdamW(parameter_groups(network, config.weight_decay), lr=config.learning_rate)
    warmup = int(config.warmup_ratio * total_steps)
    schedule = make_schedule(
        "warmup_stable_decay",
        optimizer,
        warmup,
        num_stable_steps=1,
        num_decay_steps=total_steps - warmup,
        decay_type="linear",
    )
    return optimizer, schedule


def _resume(
    path: Path, config: TrainingConfig, run: _Run, optimizer: torch.optim.Optimizer, schedule: Any
) -> _Progress:
    """Load the checkpoint at ``path`` into the run; refuse one written with other settings."""
    checkpoint = load_checkpoint(path, KIND)
    try:
        check_settings(path, checkpoint["config"], asdict(config))
    except CheckpointError as error:
        raise CheckpointError(f"{error}, or start afresh without --resume") from None
    restore_training_state(path, checkpoint, run.network, optimizer, schedule)
    metrics = checkpoint["metrics"]
    return _Progress(int(checkpoint["progress"]), list(metrics["step_losses"]), list(metrics["epoch_losses"]))


def _train_epoch(
    run: _Run,
    config: TrainingConfig,
    epoch: int,
    optimizer: torch.optim.Optimizer,
    schedule: Any,
    done: _Progress,
    *,
    progress: bool,
    on_step: Callable[[int, float], None] | None,
) -> None:
    """One pass over the shuffled training items; appends each step's loss, then the epoch's mean, to ``done``."""
    run.network.train()
    # Seeded per epoch, so a resumed run shuffles and drops out exactly as an uninterrupted one.
    torch.manual_seed(config.seed * 1_000_003 + epoch)
    order = list(range(len(run.examples)))
    random.Random(f"{config.seed}:{epoch}").shuffle(order)
    steps = math.ceil(len(run.examples) / config.batch_size)
    loss_fn = _token_loss if run.spec.kind == "token" else _pairwise_loss
    dtype = next(run.network.parameters()).dtype
    bar = tqdm(
        range(steps), desc=f"{config.component} epoch {epoch + 1}/{config.epochs}", disable=not progress, unit="step"
    )
    running: list[float] = []
    for step in bar:
        batch = [run.examples[i] for i in order[step * config.batch_size : (step + 1) * config.batch_size]]
        loss = loss_fn(run.network, run.encoder, batch, dtype, run.device)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.network.parameters(), config.max_grad_norm)
        optimizer.step()
        schedule.step()
        value = loss.item()
        running.append(value)
        done.step_losses.append(value)
        bar.set_postfix(loss=f"{sum(running[-20:]) / len(running[-20:]):.4f}")
        if on_step is not None:
            on_step(len(done.step_losses), value)
    done.epochs = epoch + 1
    done.epoch_losses.append(sum(running) / len(running))


def _save_progress(
    path: Path, config: TrainingConfig, run: _Run, optimizer: torch.optim.Optimizer, schedule: Any, done: _Progress
) -> None:
    # One file, written atomically, holds the weights and the optimiser of the same epoch, so a run
    # killed at any moment resumes from a consistent state.
    metrics = {"step_losses": done.step_losses, "epoch_losses": done.epoch_losses}
    state = training_state(run.network, optimizer, schedule)
    save_checkpoint(path, KIND, {"config": asdict(config), "progress": done.epochs, "metrics": metrics, **state})


def _finished_model(
    run: _Run, config: TrainingConfig, data: FeedbackData, epoch_losses: list[float]
) -> LearnedRewardModel:
    """The trained network as a reward model; a pairwise one with the normalisation of its training scores."""
    run.network.eval()
    pairwise = run.spec.kind == "pairwise"
    model_config = RewardModelConfig(
        component=run.spec.name,
        backbone=run.backbone,
        labels=list(run.spec.labels),
        uses_passages=run.spec.uses_passages,
        max_length=run.max_length,
        normalisation={"mean": 0.0, "std": 1.0} if pairwise else None,
        clip=DEFAULT_CLIP,
        label_rule=data.label_rule.to_dict(),
        training={"config": asdict(config), "data": data.describe(), "epoch_losses": epoch_losses},
    )
    model = LearnedRewardModel(run.network, run.tokenizer, model_config, device=run.device)
    if pairwise:
        model.config.normalisation = _normalisation(model, data)
    return model


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

    With ``out``, a checkpoint (``out/checkpoint.pt``) is written after every epoch, and ``resume=True``
    continues from it; the finished model replaces the folder. ``on_step(step, loss)`` is called after
    every optimisation step.

    Example (a tiny random encoder, one epoch on four questions of the built-in world):
        >>> import tempfile
        >>> from fg_env.rewards.learned.data import load_feedback_data
        >>> from fg_env.rewards.learned.testing import tiny_backbone
        >>> data = load_feedback_data("relevance", "synthetic", questions="0:4")
        >>> config = TrainingConfig("relevance", backbone=tiny_backbone(tempfile.mkdtemp()), epochs=1)
        >>> len(train_reward_model(config, data, progress=False).epoch_losses)
        1
    """
    _check_inputs(config, data)
    checkpoint = Path(out) / CHECKPOINT_NAME if out is not None else None
    run = _set_up(config, data, torch.device(device or default_device()))
    total_steps = math.ceil(len(run.examples) / config.batch_size) * config.epochs
    optimizer, schedule = _optimiser_and_schedule(run.network, config, total_steps)
    done = _Progress()
    if resume and checkpoint is not None and checkpoint.is_file():
        done = _resume(checkpoint, config, run, optimizer, schedule)
    for epoch in range(done.epochs, config.epochs):
        _train_epoch(run, config, epoch, optimizer, schedule, done, progress=progress, on_step=on_step)
        if checkpoint is not None:
            _save_progress(checkpoint, config, run, optimizer, schedule, done)
    model = _finished_model(run, config, data, done.epoch_losses)
    if out is not None:
        model.save(out)  # replaces the folder, checkpoint included
    return TrainingResult(model, done.step_losses, done.epoch_losses)
