"""The built-in grounded QA world (``dataset="synthetic"``), registered on import.

See :mod:`fg_env.data.synthetic.world` for how a question is generated and
:mod:`fg_env.data.synthetic.facts` for the ground truth stored in ``QAExample.meta["world"]``.
"""

from fg_env.data.base import register_dataset
from fg_env.data.synthetic.dataset import SPLIT_SIZES, SyntheticQA
from fg_env.data.synthetic.facts import Entity, Fact, FactLocation, Interpretation, World

register_dataset("synthetic", SyntheticQA)

__all__ = ["SyntheticQA", "SPLIT_SIZES", "World", "Entity", "Fact", "FactLocation", "Interpretation"]
