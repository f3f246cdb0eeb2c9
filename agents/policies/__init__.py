"""Language-model policies and how they are made: the LM policy (:mod:`.policy`), the pointer decoder of
the default policy (:mod:`.pointer`), its tokenizer, supervised fine-tuning (:mod:`.sft`) on the built-in
world's careless demonstrations (:mod:`.demonstrations`), the sentence proposer for candidate views, and the
cache folder the default policy is built into. The bottom layer of ``agents``: it imports no other subpackage."""
