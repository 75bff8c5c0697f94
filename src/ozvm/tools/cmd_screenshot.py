"""`oz screenshot IMAGE -o shot.png [--after S | --bytecodes N] [--click X,Y] [--type TEXT]`:
the image's screen as a PNG.

The image is resumed headless as `oz run` resumes it (its own error handling, the host's
files as the --files policy says) for S seconds or N bytecodes; clicks and typing, if any,
are then posted to its input device and it runs again (--settle, default half as long);
then its Display form is written as a PNG (space/screen.py). With neither --after nor
--bytecodes, the screen is the one saved in the image.
"""
from __future__ import annotations

import os
import sys
import time

from ..errors import OzError
from .common import add_files_option


def add_commands(sub) -> None:
    p = sub.add_parser("screenshot", help="run an image headless for a while and write its screen as PNG")
    p.add_argument("image")
    p.add_argument("-o", "--output", required=True, metavar="PNG")
    p.add_argument("--after", type=float, default=None, metavar="S",
                   help="run the image for S seconds first")
    p.add_argument("--bytecodes", type=int, default=None, metavar="N",
                   help="run the image for N bytecodes first (deterministic)")
    p.add_argument("--click", action="append", default=[], metavar="X,Y",
                   help="after the first run, click there (red button); may repeat")
    p.add_argument("--type", default=None, metavar="TEXT", help="after the first run, type TEXT")
    p.add_argument("--before", default=None, metavar="PNG",
                   help="also write the screen as it was before the clicks and typing")
    p.add_argument("--settle", type=float, default=None, metavar="AMOUNT",
                   help="how long the image runs after the clicks and typing, in the unit of "
                        "--after or --bytecodes (default: half the first run)")
    add_files_option(p, "host")
    p.set_defaults(func=cmd_screenshot)


def _run(interp, seconds, bytecodes) -> str:
    deadline = None if seconds is None else time.monotonic() + seconds
    return interp.run(max_bytecodes=bytecodes, deadline=deadline)


def cmd_screenshot(args) -> int:
    from ..space import execution
    from ..space.screen import Screen
    from .cmd_run import _load
    if args.after is not None and args.bytecodes is not None:
        raise OzError("give --after or --bytecodes, not both")
    space = _load(args.image, getattr(args, "files", None))
    reason = "saved"
    if args.after is not None or args.bytecodes is not None:
        interp = execution.interpreter_for(space)
        execution.let_guest_handle_errors(space)
        reason = _run(interp, args.after, args.bytecodes)
        if args.click or args.type:
            if args.before:
                Screen(space).save_png(args.before)
            device = space.input_device()
            for where in args.click:
                try:
                    x, y = (int(v) for v in where.split(","))
                except ValueError:
                    raise OzError("--click takes X,Y (integers), not %r" % where) from None
                device.click(x, y)
            if args.type:
                device.type(args.type)
            settle = args.settle
            if settle is None:
                settle = (args.after if args.after is not None else args.bytecodes) / 2
            reason = _run(interp, settle if args.after is not None else None,
                          int(settle) if args.bytecodes is not None else None)
    elif args.click or args.type:
        raise OzError("--click and --type need --after or --bytecodes (the image must run)")
    screen = Screen(space)
    screen.save_png(args.output)
    note = {"quit": "the image quit", "limit": "after the time given", "saved": "as saved"}.get(
        reason, "the image stopped: %s" % reason)
    print("%s: %dx%d, depth %d (%s)" % (os.path.basename(args.output), screen.width, screen.height,
                                        screen.depth, note), file=sys.stderr)
    return 0
