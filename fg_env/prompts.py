"""The prompt layout of QA-Feedback, written once.

QA-Feedback's ``text`` field is ``question: Q context: wikipage: T text: ... | wikipage: ...``; the
policy continues it after ``answer:``. Reward models that see no passages (the paper's relevance
model) read ``question: Q`` alone.

Example:
    >>> question_context("Who?", "wikipage: A text: B.")
    'question: Who? context: wikipage: A text: B.'
    >>> answer_prompt("Who?", "wikipage: A text: B.")
    'question: Who? context: wikipage: A text: B. answer:'
    >>> question_context("Who?")
    'question: Who?'
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["answer_prompt", "format_passages", "question_context"]


def format_passages(passages: Iterable[tuple[str, str]]) -> str:
    """``(title, text)`` pairs in QA-Feedback's layout: ``wikipage: TITLE text: ... | wikipage: ...``."""
    return " | ".join(f"wikipage: {title} text: {text}" for title, text in passages)


def question_context(question: str, context: str | None = None) -> str:
    """``question: Q`` and, when given, `` context: C`` (the reward models' first input sequence)."""
    return f"question: {question}" if context is None else f"question: {question} context: {context}"


def answer_prompt(question: str, context: str) -> str:
    """The prompt an LM policy continues with its answer."""
    return f"{question_context(question, context)} answer:"
