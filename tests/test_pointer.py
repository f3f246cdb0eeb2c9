"""The pointer (copy) decoder: a proper distribution, the KV-cached path equal to the full one, saving."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM
from transformers.cache_utils import DynamicCache

from agents.policies.pointer import PointerLlamaConfig, PointerLlamaForCausalLM


def tiny_pointer(seed: int = 0) -> PointerLlamaForCausalLM:
    torch.manual_seed(seed)
    config = PointerLlamaConfig(
        vocab_size=40,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
    )
    return PointerLlamaForCausalLM(config).eval()


# Two rows, the second left-padded (as generate() batches prompts).
IDS = torch.tensor([[5, 6, 7, 8, 9, 5, 6], [0, 0, 3, 4, 5, 3, 4]])
MASK = (IDS != 0).long()
POSITIONS = (MASK.cumsum(1) - 1).clamp(min=0)


def test_logits_are_log_probabilities_of_a_distribution():
    logits = tiny_pointer()(IDS, attention_mask=MASK, position_ids=POSITIONS).logits
    assert logits.shape == (2, 7, 40)
    assert torch.allclose(logits.exp().sum(-1), torch.ones(2, 7), atol=1e-5)


def test_cached_steps_equal_the_full_forward():
    model = tiny_pointer()
    full = model(IDS, attention_mask=MASK, position_ids=POSITIONS).logits
    cache = DynamicCache(config=model.config)
    first = model(IDS[:, :4], attention_mask=MASK[:, :4], position_ids=POSITIONS[:, :4], cache=cache, use_cache=True)
    rest = model(IDS[:, 4:], attention_mask=MASK, position_ids=POSITIONS[:, 4:], cache=cache, use_cache=True)
    stepped = torch.cat([first.logits, rest.logits], dim=1)
    real = MASK.bool()
    assert torch.allclose(full[real], stepped[real], atol=1e-5)
    # The pointer's keys are one more cache layer, as long as the others.
    assert len(cache.layers) == model.config.num_hidden_layers + 1
    assert cache.layers[-1].keys.shape[-2] == cache.get_seq_length() == 7


def test_generate_matches_greedy_decoding_without_a_cache():
    model = tiny_pointer(1)
    generated = model.generate(IDS, attention_mask=MASK, max_new_tokens=5, do_sample=False, pad_token_id=0)
    ids, mask = IDS.clone(), MASK.clone()
    for _ in range(5):
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        next_ids = model(ids, attention_mask=mask, position_ids=positions).logits[:, -1].argmax(-1, keepdim=True)
        ids, mask = torch.cat([ids, next_ids], 1), torch.cat([mask, torch.ones(2, 1, dtype=torch.long)], 1)
    assert torch.equal(generated, ids)


def test_selected_positions_equal_the_full_output():
    model = tiny_pointer()
    hidden = model.model(input_ids=IDS, attention_mask=MASK, position_ids=POSITIONS).last_hidden_state
    keys = model.pointer_key(hidden)
    full = model.mixed_log_probs(hidden, keys, IDS, MASK)
    select = torch.zeros_like(IDS, dtype=torch.bool)
    select[0, 2], select[1, 5], select[1, 6] = True, True, True
    picked = model.mixed_log_probs(hidden, keys, IDS, MASK, select=select)
    assert torch.allclose(picked, full[select], atol=1e-6)


def test_a_closed_gate_copies_only_tokens_seen_so_far():
    model = tiny_pointer()
    with torch.no_grad():
        model.pointer_gate.weight.zero_()
        model.pointer_gate.bias.fill_(-30.0)  # all mass on the pointer
    with torch.no_grad():
        probs = model(IDS[:1], attention_mask=MASK[:1]).logits.exp()[0]
    for t in range(IDS.shape[1]):
        seen = set(IDS[0, : t + 1].tolist())
        assert float(probs[t, sorted(seen)].sum()) == pytest.approx(1.0, abs=1e-5)


def test_saved_model_loads_through_the_auto_class(tmp_path):
    model = tiny_pointer()
    model.save_pretrained(tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert isinstance(loaded, PointerLlamaForCausalLM)
    assert torch.equal(model(IDS).logits, loaded.eval()(IDS).logits)


def test_missing_input_ids_is_a_clear_error():
    model = tiny_pointer()
    with pytest.raises(ValueError, match="needs input_ids"):
        model(inputs_embeds=torch.zeros(1, 3, 32))
