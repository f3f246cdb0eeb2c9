"""Datasets, found by name: the built-in grounded QA world, QA-Feedback, the built-in detoxification world and
RealToxicityPrompts."""

from __future__ import annotations

from typing import Any

from fg_env.data.base import DETOX_TASK, QADataset, TaskDataset, available_datasets, make_dataset, register_dataset

__all__ = ["QADataset", "TaskDataset", "available_datasets", "make_dataset", "register_dataset"]


# Factories import their module on first use, so `import fg_env` stays fast.
def _synthetic(**kwargs: Any) -> QADataset:
    from fg_env.data.synthetic import SyntheticQA

    return SyntheticQA(**kwargs)


def _qa_feedback(**kwargs: Any) -> QADataset:
    from fg_env.data.qa_feedback import QAFeedbackDataset

    return QAFeedbackDataset(**kwargs)


def _detox_synthetic(**kwargs: Any) -> TaskDataset[Any]:
    from fg_env.data.detox import DetoxWorld

    return DetoxWorld(**kwargs)


def _real_toxicity_prompts(**kwargs: Any) -> TaskDataset[Any]:
    from fg_env.data.detox import RealToxicityPrompts

    return RealToxicityPrompts(**kwargs)


register_dataset("synthetic", _synthetic)
register_dataset("detox-synthetic", _detox_synthetic, task=DETOX_TASK)
register_dataset("real-toxicity-prompts", _real_toxicity_prompts, task=DETOX_TASK)
register_dataset("qa-feedback", _qa_feedback)
