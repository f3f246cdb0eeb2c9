"""Agents that need no training, as reference rows of a comparison: the random-sentence agent."""
