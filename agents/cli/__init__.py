"""The agents' sub-commands of ``fg-env`` (:mod:`.commands`); the top layer of ``agents``."""

from agents.cli.commands import register

__all__ = ["register"]
