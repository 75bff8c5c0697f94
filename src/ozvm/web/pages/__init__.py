"""The workbench's pages: each module contributes ROUTES and NAV (docs/workbench.md)."""
from __future__ import annotations
