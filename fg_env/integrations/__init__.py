"""Adapters for other libraries' conventions: TRL reward functions, MO-Gymnasium's async vector env.

Each module imports its library lazily, so ``fg_env`` needs none of them.
"""
