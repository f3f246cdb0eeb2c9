"""Collection settings for the whole tree (tests, and the doctests of ``fg_env`` and ``agents``)."""

from __future__ import annotations

import importlib.util

# Modules of optional integrations that cannot even be imported without their library, so their doctests
# cannot be collected there; their tests skip on their own (pytest.importorskip).
_NEEDS = {"fg_env/integrations/openenv.py": "openenv"}

collect_ignore = [path for path, module in _NEEDS.items() if importlib.util.find_spec(module) is None]
