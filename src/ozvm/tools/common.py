"""What several command modules share."""
from __future__ import annotations

import argparse
import os
import sys

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


FILES_HELP = ("what guest code may do to the host's files: host (as a real VM; the image is "
              "never written), deny, read-only[:DIR], allow:DIR[%sDIR...] (read and write only "
              "there), overlay[:DIR] (copy-on-write into DIR, a temporary folder by default: "
              "the host's files never change)" % os.pathsep)


def add_files_option(parser, default: str) -> None:
    """`--files POLICY` on a command that runs guest code."""
    parser.add_argument("--files", default=default, metavar="POLICY",
                        help=FILES_HELP + " (default: %s)" % default)


def file_policy(text: str):
    """The FilePolicy a --files argument names."""
    from ..prims.file_policy import FilePolicy
    kind, _, arg = text.partition(":")
    folders = [p for p in arg.split(os.pathsep) if p]
    for folder in folders:
        if kind != "overlay" and not os.path.isdir(folder):
            raise OzError("--files %s: no such folder: %s" % (text, folder))
    if kind == "host" and not arg:
        return FilePolicy.host()
    if kind == "deny" and not arg:
        return FilePolicy.deny()
    if kind == "read-only":
        return FilePolicy.read_only(folders or None)
    if kind == "allow" and folders:
        return FilePolicy.allow(folders)
    if kind == "overlay":
        return FilePolicy.overlay(arg or None)
    raise OzError("--files %s: not a file policy (%s)" % (text, FILES_HELP))


def report_denials(space, label: str, out=None, limit: int = 10) -> None:
    """Print the file operations the space's policy refused (the latest `limit`)."""
    table = space.file_table()
    if not table.denied_count:
        return
    out = out or sys.stderr
    print("%s: %d file operation(s) denied by the policy (%s):"
          % (label, table.denied_count, table.policy.describe()), file=out)
    for denial in table.denied[-limit:]:
        print("  " + str(denial), file=out)


def load_average() -> float:
    """The machine's load average over the last minute (benchmark figures depend on it)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
