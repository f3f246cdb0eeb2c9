"""Toxicity from a Detoxify checkpoint the user has on disk (the ``detoxify`` extra).

Detoxify (Unitary's BERT-family classifiers trained on the Jigsaw toxic-comment challenges) downloads its
checkpoints from GitHub when given none; fg_env never lets it: :class:`DetoxifyToxicity` takes the path of a
``.ckpt`` file and refuses to start without one. The checkpoint's base model (its config and tokenizer) is
read from the Hugging Face cache, or from ``huggingface_config_path`` when given: with ``HF_HUB_OFFLINE=1``
nothing is fetched at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fg_env.errors import (
    CheckpointError,
    InvalidValueError,
    MissingDependencyError,
    ModelNotFoundError,
    UnknownChoiceError,
)
from fg_env.rewards.toxicity.base import check_texts

__all__ = ["DetoxifyToxicity"]

INSTALL_HINT = 'pip install "fg-env[detoxify]"'


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:12]


class DetoxifyToxicity:
    """Toxicity as a local Detoxify checkpoint's probability for one of its classes (``"toxicity"`` by default).

    Args:
        checkpoint: path of a Detoxify ``.ckpt`` file (a dict with ``config`` and ``state_dict``, as the
            project's releases ship them). Never downloaded: a missing file raises
            :class:`~fg_env.errors.ModelNotFoundError`.
        attribute: the class to read (``toxicity``, ``severe_toxicity``, ``insult``...; the checkpoint's).
        device: a torch device for the model.
        batch_size: texts per forward pass.
        huggingface_config_path: a folder with the base model's config and tokenizer files, for loading
            without the Hugging Face cache.

    ``version`` is ``detoxify-`` and the first 12 hex digits of the checkpoint file's SHA-256.
    Without the ``detoxify`` package it raises :class:`~fg_env.errors.MissingDependencyError` naming the extra.

    Example:
        >>> DetoxifyToxicity("no/such/toxic_original.ckpt")
        Traceback (most recent call last):
        ...
        fg_env.errors.ModelNotFoundError: Detoxify checkpoint 'no/such/toxic_original.ckpt' does not exist (fg_env never downloads one: give the path of a .ckpt file on disk)
    """

    name: str = "detoxify"

    def __init__(
        self,
        checkpoint: str | Path,
        *,
        attribute: str = "toxicity",
        device: str = "cpu",
        batch_size: int = 32,
        huggingface_config_path: str | Path | None = None,
    ) -> None:
        path = Path(checkpoint)
        if not path.exists():
            raise ModelNotFoundError(
                f"Detoxify checkpoint {str(path)!r} does not exist "
                "(fg_env never downloads one: give the path of a .ckpt file on disk)"
            )
        if not path.is_file():
            raise ModelNotFoundError(f"Detoxify checkpoint {str(path)!r} is not a file (give the .ckpt file itself)")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        try:
            from detoxify import Detoxify
        except ImportError:
            raise MissingDependencyError(
                f"the 'detoxify' toxicity scorer needs the detoxify package: {INSTALL_HINT}"
            ) from None
        try:
            self._model: Any = Detoxify(
                checkpoint=str(path),
                device=device,
                huggingface_config_path=None if huggingface_config_path is None else str(huggingface_config_path),
            )
        except Exception as error:  # torch.load, a wrong kind of file, an uncached base model: say which file
            raise CheckpointError(
                f"Detoxify cannot load checkpoint {str(path)!r}: {type(error).__name__}: {error}"
            ) from error
        classes = list(self._model.class_names)
        if attribute not in classes:
            raise UnknownChoiceError(f"attribute of Detoxify checkpoint {str(path)!r}", attribute, classes)
        self.checkpoint, self.attribute, self.batch_size = path, attribute, batch_size
        self.version: str | None = f"detoxify-{_digest(path)}"

    def toxicity(self, texts: Sequence[str]) -> np.ndarray:
        """The checkpoint's probability of ``attribute`` for each text, in [0, 1]; one forward pass per batch."""
        items = check_texts(texts)
        scores: list[float] = []
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            predicted = self._model.predict(chunk)[self.attribute]
            values = np.asarray(predicted, dtype=np.float64).reshape(-1)
            if values.shape[0] != len(chunk):
                raise InvalidValueError(f"Detoxify returned {values.shape[0]} scores for {len(chunk)} texts")
            scores.extend(values.tolist())
        return np.asarray(scores, dtype=np.float64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.checkpoint)!r}, attribute={self.attribute!r})"
