"""Experiments: runs described once, trained and evaluated; the fine-grained-versus-holistic comparison,
weight sweeps, learned-versus-exact rewards, the Stable-Baselines3 comparison and the reward-hacking probe.
Builds on :mod:`agents.algorithms`, :mod:`agents.policies`, :mod:`agents.baselines` and :mod:`agents.reporting`."""
