"""Doctest collection of the optional integrations (pytest reads this file; it is not part of the API).

It lives in the package, not at the repository root: a root ``conftest.py`` would be imported as the
module ``conftest`` and shadow ``tests/conftest.py`` in processes that tests spawn."""

from __future__ import annotations

import importlib.util

# Modules of optional integrations that cannot even be imported without their library, so their doctests
# cannot be collected there; their tests skip on their own (pytest.importorskip).
_NEEDS = {"openenv.py": "openenv"}

collect_ignore = [path for path, module in _NEEDS.items() if importlib.util.find_spec(module) is None]
