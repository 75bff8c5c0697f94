"""`oz eval`, `oz run`: running guest code on ozvm's interpreter.

    oz eval IMAGE 'CODE'        evaluate CODE with the guest's own Compiler, print the
                                printString of the result
    oz run IMAGE [--timeout S]  resume the image's active process headless until it quits

(`oz bench tiny`, tinyBenchmarks on every VM: tools/cmd_bench_tiny.py)
"""
from __future__ import annotations

import os
import signal
import sys
import time

from ..errors import GuestError, OzError
from .common import add_files_option, file_policy, report_denials


def add_commands(sub) -> None:
    p = sub.add_parser("eval", help="evaluate an expression in an image and print its printString")
    p.add_argument("image")
    p.add_argument("expr")
    p.add_argument("--timeout", type=float, default=600.0, metavar="S")
    add_files_option(p, "host")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("run", help="resume the image's active process headless until it quits")
    p.add_argument("image")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="stop after S seconds (exit code 2)")
    p.add_argument("--emergency", action="store_true",
                   help="when the image fails (unhandled error, deadlock, Ctrl-C) the host takes "
                        "over and opens the surgeon console on the failing process")
    add_files_option(p, "host")
    p.set_defaults(func=cmd_run)


def _load(path, files=None):
    """The image's space; `files`: a --files argument for its file policy."""
    from ..space.objectspace import ObjectSpace
    if not os.path.exists(path):
        raise OzError("no such image: %s" % path)
    space = ObjectSpace.load(path)
    if files is not None:
        space.file_policy = file_policy(files)
    return space


def cmd_eval(args) -> int:
    from ..space import execution
    from ..space.control import Interruptible      # Ctrl-C: stop, show the culprit's stack
    space = _load(args.image, getattr(args, "files", None))
    try:
        with Interruptible(space) as intr:
            text = execution.evaluate_and_print(space, args.expr, timeout=args.timeout)
        if execution.interpreter_for(space).transcript_line_open:
            print()
        print(text)
    except GuestError as e:
        if intr.interrupted:
            print("oz eval: %s" % intr.report(), file=sys.stderr)
            return 130
        print("guest error: %s" % e, file=sys.stderr)
        return 1
    finally:
        report_denials(space, "oz eval")
        space.file_table().close()
    return 0


def cmd_run(args) -> int:
    space = _load(args.image, getattr(args, "files", None))
    try:
        return _run(space, args)
    finally:
        report_denials(space, "oz run")
        space.file_table().close()


def _run(space, args) -> int:
    from ..space import execution
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    if getattr(args, "emergency", False):
        return _run_emergency(space, deadline, args.timeout)
    interp = execution.interpreter_for(space)
    execution.let_guest_handle_errors(space)      # as a real VM: the image's own debugger code runs
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    interp.host_poll = lambda interp: bool(interrupted)     # Ctrl-C stops at the next heartbeat
    try:
        reason = interp.run(deadline=deadline)
    finally:
        signal.signal(signal.SIGINT, previous)
    if reason == "stopped":
        print("oz run: interrupted", file=sys.stderr)
        if interp.ctx is not None:      # the culprit's stack (space/control.py)
            from ..space.control import describe_stack
            for line in describe_stack(space, interp.ctx, 40):
                print("  " + line, file=sys.stderr)
        return 130
    if reason == "quit":
        return 0
    if reason == "limit":
        print("oz run: stopped after %gs (the guest had not quit)" % args.timeout, file=sys.stderr)
        return 2
    if reason == "error" or reason == "memory":
        print("oz run: guest error: %s" % interp.guest_error, file=sys.stderr)
        return 1
    print("oz run: the guest stopped (%s)" % reason, file=sys.stderr)
    return 0 if reason == "idle" else 1


def _run_emergency(space, deadline, timeout) -> int:
    """`oz run --emergency`: the host's error traps stay armed; failures open the surgeon
    console (tools/surgeon_console.py)."""
    from .surgeon_console import run_with_console
    reason = run_with_console(space, deadline=deadline)
    if reason == "quit":
        return 0
    if reason == "limit":
        print("oz run: stopped after %gs (the guest had not quit)" % timeout, file=sys.stderr)
        return 2
    print("oz run: the surgeon quit (the image was not resumed)", file=sys.stderr)
    return 1
