"""`oz screenshot IMAGE -o shot.png [--after S | --bytecodes N]`: the image's screen as a PNG.

The image is resumed headless as `oz run` resumes it (its own error handling, the host's
files as the --files policy says) for S seconds or N bytecodes, then its Display form is
written as a PNG (space/screen.py). With neither, the screen is the one saved in the image.
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
    add_files_option(p, "host")
    p.set_defaults(func=cmd_screenshot)


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
        deadline = None if args.after is None else time.monotonic() + args.after
        reason = interp.run(max_bytecodes=args.bytecodes, deadline=deadline)
    screen = Screen(space)
    screen.save_png(args.output)
    note = {"quit": "the image quit", "limit": "after the time given", "saved": "as saved"}.get(
        reason, "the image stopped: %s" % reason)
    print("%s: %dx%d, depth %d (%s)" % (os.path.basename(args.output), screen.width, screen.height,
                                        screen.depth, note), file=sys.stderr)
    return 0
