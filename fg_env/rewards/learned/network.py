"""The reward network: a Hugging Face encoder and a linear head read at chosen token positions.

Token models have one output per class (``no-error`` and the component's error types); pairwise
models have one output, a scalar score. Saving writes the whole network to one safetensors file and
the backbone's config and tokenizer (never its original weights) beside it, so a checkpoint folder
loads offline wherever it is moved.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, cast

import torch
from safetensors.torch import load_model, save_model
from torch import nn

from fg_env.errors import InvalidValueError
from fg_env.rewards.learned.config import ENCODER_DIR, WEIGHTS_FILE


class RewardNetwork(nn.Module):
    """Encoder + dropout + linear head, evaluated only at the requested ``(row, token)`` positions.

    Example:
        >>> from transformers import BertConfig, BertModel
        >>> cfg = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        ...                  intermediate_size=16)
        >>> net = RewardNetwork(BertModel(cfg), num_outputs=3)
        >>> ids = torch.randint(5, 50, (2, 6))
        >>> net(ids, torch.zeros(2, 1, 6, 6), torch.tensor([[0, 5], [1, 2]])).shape
        torch.Size([2, 3])
    """

    def __init__(self, backbone: nn.Module, num_outputs: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.backbone = backbone
        config: Any = backbone.config  # a transformers PretrainedConfig
        hidden = int(config.hidden_size if hasattr(config, "hidden_size") else config.dim)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, num_outputs)
        self._takes_token_types = "token_type_ids" in inspect.signature(backbone.forward).parameters

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Head outputs at ``positions`` (an ``(n, 2)`` tensor of row and token indices): ``(n, outputs)``."""
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None and self._takes_token_types else {}
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        picked = hidden[positions[:, 0], positions[:, 1]]
        return self.head(self.dropout(picked))

    def save(self, folder: Path, tokenizer) -> None:
        """Write ``model.safetensors`` and ``encoder/`` (the backbone's config and tokenizer) to ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        save_model(self, str(folder / WEIGHTS_FILE))
        cast(Any, self.backbone).config.save_pretrained(folder / ENCODER_DIR)
        tokenizer.save_pretrained(folder / ENCODER_DIR)

    @classmethod
    def load(cls, folder: Path, num_outputs: int, device: torch.device | str = "cpu") -> tuple[RewardNetwork, object]:
        """The network and tokenizer saved in ``folder`` by :meth:`save`."""
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        encoder_dir = folder / ENCODER_DIR
        if not (folder / WEIGHTS_FILE).is_file() or not encoder_dir.is_dir():
            raise FileNotFoundError(
                f"{str(folder)!r} lacks {WEIGHTS_FILE} or {ENCODER_DIR}/: not a complete checkpoint"
            )
        config = AutoConfig.from_pretrained(encoder_dir)
        backbone = AutoModel.from_config(config)
        network = cls(backbone, num_outputs)
        missing, unexpected = load_model(network, str(folder / WEIGHTS_FILE), strict=False)
        if missing or unexpected:
            raise InvalidValueError(
                f"{folder / WEIGHTS_FILE} does not match its config: missing {sorted(missing)[:5]}, "
                f"unexpected {sorted(unexpected)[:5]}"
            )
        tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
        return network.to(device).eval(), tokenizer


def load_backbone(path: str, device: torch.device | str = "cpu"):
    """A pretrained encoder and its fast tokenizer from a folder or hub name (offline unless remote)."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    backbone = AutoModel.from_pretrained(path)
    return backbone.to(device), tokenizer
