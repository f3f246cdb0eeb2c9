"""The default policy's tokenizer: byte-level BPE trained with the `tokenizers` library.

Byte-level BPE (GPT-2's scheme) can encode any Unicode string, so the policy never meets an unknown
character, and its offset mapping is exact (``trim_offsets=False``: a token's range includes its leading
space, so the ranges partition the text). It is wrapped as a transformers ``PreTrainedTokenizerFast`` with
an end-of-sequence and a padding token, and saves/loads with the model folder.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from fg_env.errors import InvalidValueError

__all__ = ["EOS_TOKEN", "PAD_TOKEN", "train_tokenizer"]

EOS_TOKEN = "<|endoftext|>"
PAD_TOKEN = "<|pad|>"


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096, min_frequency: int = 2) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on ``texts``; ids 0 and 1 are the eos and pad tokens.

    Example:
        >>> tok = train_tokenizer(["Ada was born in 1815.", "Ada died in 1852."] * 10, vocab_size=300)
        >>> tok.decode(tok(" Zürich ✓").input_ids)
        ' Zürich ✓'
        >>> tok.eos_token, tok.pad_token
        ('<|endoftext|>', '<|pad|>')
    """
    # 256 byte symbols + the two special tokens are the minimum; below that the alphabet cannot fit.
    if vocab_size < 258:
        raise InvalidValueError(f"vocab_size must be at least 258 (256 bytes + eos + pad), got {vocab_size}")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[EOS_TOKEN, PAD_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        bos_token=EOS_TOKEN,
        unk_token=None,
        padding_side="left",
        clean_up_tokenization_spaces=False,
        model_max_length=1 << 30,
    )
