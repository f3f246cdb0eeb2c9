"""Datasets: the built-in grounded QA world and the QA-Feedback loader, found by name."""

from __future__ import annotations

from typing import Any

from fg_env.data.base import QADataset, available_datasets, make_dataset, register_dataset

__all__ = ["QADataset", "available_datasets", "make_dataset", "register_dataset"]


# Factories import their module on first use, so `import fg_env` stays fast.
def _synthetic(**kwargs: Any) -> QADataset:
    from fg_env.data.synthetic import SyntheticQA

    return SyntheticQA(**kwargs)


def _qa_feedback(**kwargs: Any) -> QADataset:
    from fg_env.data.qa_feedback import QAFeedbackDataset

    return QAFeedbackDataset(**kwargs)


register_dataset("synthetic", _synthetic)
register_dataset("qa-feedback", _qa_feedback)
