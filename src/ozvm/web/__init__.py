"""The surgeon's workbench in a web page (`oz serve`): a Starlette app over one VM worker
thread that owns every space (docs/workbench.md). Nothing below this layer imports it."""
from __future__ import annotations
