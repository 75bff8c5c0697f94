"""What several command modules share."""
from __future__ import annotations

import argparse

from ..errors import OzError


def bench_subcommands(sub):
    """The subcommands of `oz bench`: made by the first tool module that asks, extended by
    the others (`oz bench load`, `tiny`, `switch`, `bootstrap`)."""
    parser = sub.choices.get("bench")
    if parser is None:
        parser = sub.add_parser("bench", help="benchmarks ('oz bench IMAGE' is 'oz bench tiny IMAGE')")
        what = parser.add_subparsers(dest="what", metavar="WHAT")
        what.required = True
        return what
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise OzError("'oz bench' has no subcommands to extend")
