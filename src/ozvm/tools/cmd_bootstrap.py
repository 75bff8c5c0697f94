"""`oz bootstrap`: build a new image from ozvm's own kernel sources.

    oz bootstrap -o kernel.image [--kernel DIR] [--expressions FILE] [--no-progress]

The image is a V3 6505 (closure) image that runs on ozvm and on standard VMs (squeak-vm).
When resumed it runs its startup script -- the expressions of FILE (default: the kernel's
startup.txt), compiled in at bootstrap time -- writes the results beside the image
(`kernel.results.txt`) and quits. The same sources give the same bytes.
"""
from __future__ import annotations

import sys
import time

from ..errors import OzError


def add_commands(sub) -> None:
    p = sub.add_parser("bootstrap", help="build a new image from ozvm's own kernel sources")
    p.add_argument("-o", "--output", required=True, metavar="IMAGE", help="the image file to write")
    p.add_argument("--kernel", metavar="DIR", help="the kernel sources (default: the package's)")
    p.add_argument("--expressions", metavar="FILE",
                   help="the startup expressions, one per line (default: the kernel's startup.txt)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_bootstrap)


class ProgressBar:
    """A one-line progress bar on stderr."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.shown = None

    def __call__(self, step: str, done: int, total: int) -> None:
        filled = self.WIDTH * done // total if total else self.WIDTH
        line = "\r%-8s [%s%s] %3d%%" % (step, "#" * filled, "." * (self.WIDTH - filled),
                                        100 * done // total if total else 100)
        if line != self.shown:
            self.stream.write(line)
            self.stream.flush()
            self.shown = line

    def finish(self) -> None:
        if self.shown is not None:
            self.stream.write("\n")
            self.stream.flush()


def cmd_bootstrap(args) -> int:
    from .. import bootstrap
    start = time.perf_counter()
    expressions = bootstrap.read_expressions(args.expressions) if args.expressions else None
    bar = None if args.no_progress or not sys.stderr.isatty() else ProgressBar(sys.stderr)
    try:
        space = bootstrap.build(args.kernel, expressions, bar)
    finally:
        if bar is not None:
            bar.finish()
    try:
        space.save(args.output)
    except OSError as e:
        raise OzError("cannot write %s: %s" % (args.output, e.strerror or e)) from None
    objects, size, _ = space.heap.memory_use()
    print("%s: %d classes, %d objects, %d bytes, built in %.2f s"
          % (args.output, len(space.classes()), objects, size, time.perf_counter() - start))
    return 0
