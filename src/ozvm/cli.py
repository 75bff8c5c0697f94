"""The `oz` command line.

Each module `ozvm/tools/cmd_*.py` contributes subcommands through
`add_commands(subparsers)`; every subcommand sets `func(args) -> int` as its default.
Errors are one line on stderr and exit code 1; `--debug` shows the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback

from .errors import OzError


def tool_modules() -> list:
    """(name, module or the exception that prevented importing it) for every tools/cmd_*.py."""
    from . import tools
    found = []
    for info in sorted(pkgutil.iter_modules(tools.__path__), key=lambda i: i.name):
        if not info.name.startswith("cmd_"):
            continue
        try:
            found.append((info.name, importlib.import_module("ozvm.tools." + info.name)))
        except Exception as e:   # a broken tool module must not take the others down
            found.append((info.name, e))
    return found


def _not_yet(what: str):
    def run(args) -> int:
        raise OzError("'oz %s' is not available yet (it comes with the bootstrap work)" % what)
    return run


def build_parser(debug: bool = False):
    parser = argparse.ArgumentParser(
        prog="oz", description="ozvm: a Smalltalk VM in Python holding real images as object spaces")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("--no-jit", action="store_true",
                        help="run guest code in the interpreter only (as OZ_JIT=0; docs/jit.md)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module in tool_modules():
        if isinstance(module, Exception):
            if debug:
                print("oz: warning: tools/%s.py not loaded: %s: %s"
                      % (name, type(module).__name__, module), file=sys.stderr)
            continue
        add = getattr(module, "add_commands", None)
        if add is not None:
            add(sub)
    if "demo" not in sub.choices:
        p = sub.add_parser("demo", help="run the demo (not yet available)")
        p.set_defaults(func=_not_yet("demo"))
    return parser


def _bench_shorthand(sub, argv: list) -> list:
    """`oz bench IMAGE` is short for `oz bench tiny IMAGE` (tinyBenchmarks)."""
    words = [a for a in argv if not a.startswith("-")]
    bench = sub.choices.get("bench")
    if len(words) >= 2 and words[0] == "bench" and bench is not None:
        what = next((a for a in bench._actions if isinstance(a, argparse._SubParsersAction)), None)
        if what is not None and words[1] not in what.choices and "tiny" in what.choices:
            i = argv.index("bench")
            return argv[:i + 1] + ["tiny"] + argv[i + 1:]
    return argv


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    parser = build_parser(debug)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    args = parser.parse_args(_bench_shorthand(sub, argv))
    if args.no_jit:
        from .interp.jit import force_interpreter_only
        force_interpreter_only()
    try:
        code = args.func(args)
        return 0 if code is None else int(code)
    except KeyboardInterrupt:
        print("oz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        if debug:
            traceback.print_exc()
        kind = "" if isinstance(e, (OzError, OSError)) else "internal error (%s): " % type(e).__name__
        text = str(e) or type(e).__name__
        if isinstance(e, OSError) and e.filename and e.strerror:
            text = "%s: %s" % (e.filename, e.strerror)
        hint = "" if debug or isinstance(e, (OzError, OSError)) else " (run with --debug for the traceback)"
        print("oz: error: %s%s%s" % (kind, text.splitlines()[0] if text else "", hint), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
