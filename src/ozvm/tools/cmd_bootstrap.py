"""`oz bootstrap`: build a new image from ozvm's own kernel sources.

    oz bootstrap -o kernel.image [--kernel DIR] [--expressions FILE] [--no-progress]
    oz bench bootstrap [--runs N]       time of the bootstrap and size of the image

The image is a V3 6505 (closure) image that runs on ozvm and on standard VMs (squeak-vm).
When resumed it runs its startup script -- the expressions of FILE (default: the kernel's
startup.txt), compiled in at bootstrap time -- writes the results beside the image
(`kernel.results.txt`) and quits. The same sources give the same bytes.
"""
from __future__ import annotations

import sys
import time

from ..errors import OzError
from .common import bench_subcommands


def add_commands(sub) -> None:
    p = sub.add_parser("bootstrap", help="build a new image from ozvm's own kernel sources")
    p.add_argument("-o", "--output", required=True, metavar="IMAGE", help="the image file to write")
    p.add_argument("--kernel", metavar="DIR", help="the kernel sources (default: the package's)")
    p.add_argument("--expressions", metavar="FILE",
                   help="the startup expressions, one per line (default: the kernel's startup.txt)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_bootstrap)

    q = bench_subcommands(sub).add_parser("bootstrap", help="time `oz bootstrap` and show the image size")
    q.add_argument("--runs", type=int, default=3, metavar="N", help="best of N builds (default 3)")
    q.set_defaults(func=cmd_bench_bootstrap)


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


def cmd_bench_bootstrap(args) -> int:
    """Best-of-N time of building the default kernel image (sources read, classes made,
    methods compiled, image encoded), and the image's size."""
    from .. import bootstrap
    from ..image.v3_writer import encode_image
    import platform
    best = None
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        space = bootstrap.build()
        data = encode_image(space.heap)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    objects, _, _ = space.heap.memory_use()
    print("bootstrap: %.2f s (best of %d, %s %s), image %d bytes, %d objects, %d classes, %d methods"
          % (best, max(1, args.runs), platform.python_implementation(), platform.python_version(),
             len(data), objects, len(space.classes()), _count_methods(space)))
    return 0


def _count_methods(space) -> int:
    nil = space.nil
    total = 0
    for cls in space.classes():
        for c in (cls, cls.cls):
            total += sum(1 for k in c.ptrs[1].ptrs[2:] if k is not nil)
    return total
