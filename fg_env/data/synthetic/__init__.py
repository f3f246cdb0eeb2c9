"""The built-in grounded QA world (``dataset="synthetic"``), registered on import.

See :mod:`fg_env.data.synthetic.world` for how a question is generated,
:mod:`fg_env.data.synthetic.facts` for the ground truth stored in ``QAExample.meta["world"]``, and
:mod:`fg_env.data.synthetic.annotator` for the world's exact annotator, which reads answers back
against that ground truth.
"""

from fg_env.data.base import register_dataset
from fg_env.data.synthetic.annotator import Annotator, MissingWorldError
from fg_env.data.synthetic.dataset import SPLIT_SIZES, SyntheticQA
from fg_env.data.synthetic.facts import Entity, Fact, FactLocation, Interpretation, World

register_dataset("synthetic", SyntheticQA)

__all__ = [
    "Annotator",
    "MissingWorldError",
    "SyntheticQA",
    "SPLIT_SIZES",
    "World",
    "Entity",
    "Fact",
    "FactLocation",
    "Interpretation",
]
