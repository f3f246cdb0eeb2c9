"""The detoxification task's prompts: the built-in offline world and RealToxicityPrompts from a folder.

- :class:`DetoxPrompt` (:mod:`.types`): a prompt, with its source's toxicity score and ``challenging`` flag;
- :class:`DetoxWorld` (``make_dataset("detox-synthetic")``, :mod:`.world`): seeded prompts and an SFT corpus
  in which heated prompts are sometimes continued toxically, with words read from the default scorer's model;
- :class:`RealToxicityPrompts` (``make_dataset("real-toxicity-prompts", data_dir=...)``, :mod:`.rtp`): the
  release's ``prompts.jsonl``, split as DExperts and Quark did.
"""

from fg_env.data.detox.rtp import RealToxicityPrompts, read_prompts_file
from fg_env.data.detox.types import DetoxPrompt
from fg_env.data.detox.world import CorpusContinuation, DetoxWorld, mask_toxic_words, toxic_vocabulary

__all__ = [
    "CorpusContinuation",
    "DetoxPrompt",
    "DetoxWorld",
    "RealToxicityPrompts",
    "mask_toxic_words",
    "read_prompts_file",
    "toxic_vocabulary",
]
