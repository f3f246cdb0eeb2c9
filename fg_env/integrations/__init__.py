"""Adapters for other libraries' conventions: TRL reward functions, MO-Gymnasium's async vector env,
OpenEnv's environment server and client (:mod:`fg_env.integrations.openenv`).

Each module imports its library lazily, so ``fg_env`` needs none of them.
"""
