"""`oz screenshot IMAGE -o shot.png [--after S | --bytecodes N] [--click X,Y] [--type TEXT]`:
the image's screen as a PNG.

The image is resumed headless as `oz run` resumes it (its own error handling, the host's
files as the --files policy says) for S seconds or N bytecodes; clicks and typing, if any,
are then posted to its input device and it runs again (--settle, default half as long);
then its Display form is written as a PNG (space/screen.py). With neither --after nor
--bytecodes, the screen is the one saved in the image. --cursor draws the guest's cursor
at the mouse point. --missing lists the named primitives
the image called that ozvm lacks (the image ran its fallback code for them).
"""
from __future__ import annotations

import os
import sys
import time

from ..errors import OzError
from .common import add_files_option, bench_subcommands, load_average


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
    p.add_argument("--cursor", action="store_true",
                   help="draw the guest's cursor (primitive 101) at the mouse point")
    p.add_argument("--missing", action="store_true",
                   help="list the named primitives the image called that ozvm lacks (calls each)")
    add_files_option(p, "host")
    p.set_defaults(func=cmd_screenshot)

    q = bench_subcommands(sub).add_parser("display", help="copyBits throughput on Forms of a real image")
    q.add_argument("image", nargs="?", default="/usr/share/scratch/Scratch.image",
                   help="an image with Form and Bitmap (default: Scratch 1.4's)")
    q.add_argument("--repeat", type=int, default=3)
    q.add_argument("--frames", type=int, default=3, metavar="N",
                   help="Scratch's whole screen redrawn N times by its own Morphic code "
                        "(0: only copyBits); the rate of all N, and of the second half alone "
                        "(the steady state, once PyPy's JIT has warmed up)")
    q.add_argument("--pypy", action="store_true",
                   help="then run the same benchmark on pypy3")
    q.set_defaults(func=cmd_bench_display)


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
                Screen(space).save_png(args.before, args.cursor)
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
    screen.save_png(args.output, args.cursor)
    if args.missing:
        interp = execution.interpreter_for(space)
        log = getattr(interp, "missing_named_primitives", None) or {}
        print("named primitives called that ozvm lacks: %d" % len(log), file=sys.stderr)
        for (module, name), calls in sorted(log.items()):
            print("  %s %s: %d call%s" % (module or "-", name, calls, "" if calls == 1 else "s"),
                  file=sys.stderr)
    note = {"quit": "the image quit", "limit": "after the time given", "saved": "as saved"}.get(
        reason, "the image stopped: %s" % reason)
    print("%s: %dx%d, depth %d (%s)" % (os.path.basename(args.output), screen.width, screen.height,
                                        screen.depth, note), file=sys.stderr)
    return 0


# --- oz bench display ------------------------------------------------------------------------------

def cmd_bench_display(args) -> int:
    """copyBits on the image's own Form/Bitmap/BitBlt classes: a full 1024x768 32-bit screen
    copied (rule 3, Form over) and blended (rules 24 and 34), a 200x200 sprite blended
    (rule 34), a line of text (1-bit glyphs into 32 bits through a color map, rule 25
    paint); best of --repeat runs, on this Python. Then (--frames N) Scratch's screen
    redrawn N times by its own code (`World fullRepaintNeeded; displayWorld` after
    `DisplayScreen startUp` and one frame), in frames per second of wall-clock time and of
    this process's CPU time (what a loaded machine leaves it), with the load average: of
    all N frames, of the first half (PyPy's JIT warming up) and of the second half alone
    (the steady state). --pypy runs the same on pypy3 afterwards."""
    import random
    from ..prims import bitblt
    from ..space.objectspace import ObjectSpace
    if not os.path.exists(args.image):
        raise OzError("no such image: %s" % args.image)
    space = ObjectSpace.load(args.image)
    heap = space.heap
    classes = {n: space.class_named(n) for n in ("Form", "Bitmap", "BitBlt")}
    if None in classes.values():
        raise OzError("the image has no Form, Bitmap or BitBlt class")
    rng = random.Random(1)

    def form(w, h, depth, fill):
        ppw = 32 // depth
        bits = heap.instantiate(classes["Bitmap"], ((w + ppw - 1) // ppw) * h)
        bits.words[:] = [fill() for _ in range(len(bits.words))]
        f = heap.instantiate(classes["Form"])
        f.ptrs[0:4] = [bits, w, h, depth]
        return f

    class Stack:
        def __init__(self):
            self.heap = heap
            self.stack = [heap.nil] * 8
            self.sp = 0

        def pop_push(self, n, value):
            self.sp -= n - 1
            self.stack[self.sp] = value

    screen = form(1024, 768, 32, lambda: rng.randrange(1 << 32))
    screen2 = form(1024, 768, 32, lambda: rng.randrange(1 << 32))
    sprite = form(200, 200, 32, lambda: rng.choice((0, 0xFF102030, 0x80FFFFFF, rng.randrange(1 << 32))))
    glyphs = form(400, 12, 1, lambda: rng.randrange(1 << 32))
    cmap = heap.instantiate(classes["Bitmap"], 2)
    cmap.words[:] = [0, 0xFF000001]

    def blt(dest, src, rule, w, h, colormap=None, at=10):
        b = heap.instantiate(classes["BitBlt"])
        b.ptrs[0:15] = [dest, src, heap.nil, rule, at, at, w, h, 0, 0, 0, 0, 1024, 768,
                        colormap or heap.nil]
        return b

    cases = [("full screen, rule 3 (over)", blt(screen, screen2, 3, 1024, 768, at=0)),
             ("full screen, rule 24 (alpha blend)", blt(screen, screen2, 24, 1024, 768, at=0)),
             ("full screen, rule 34 (alpha blend)", blt(screen, screen2, 34, 1024, 768, at=0)),
             ("200x200 sprite, rule 34", blt(screen, sprite, 34, 200, 200)),
             ("400x12 text line, 1 -> 32 bits, rule 25", blt(screen, glyphs, 25, 400, 12, cmap))]
    print("copyBits on %s (%s Forms), best of %d, load average %.1f"
          % (_python(), os.path.basename(args.image), args.repeat, load_average()))
    print("  %-42s %12s %12s" % ("", "wall clock", "CPU time"))
    for label, b in cases:
        best = best_cpu = None
        for _ in range(args.repeat):
            st = Stack()
            st.stack[0] = b
            t, c = time.perf_counter(), time.process_time()
            if not bitblt.copy_bits(st, 0):
                raise OzError("copyBits failed on %s" % label)
            t, c = time.perf_counter() - t, time.process_time() - c
            best = t if best is None else min(best, t)
            best_cpu = c if best_cpu is None else min(best_cpu, c)
        print("  %-42s %9.1f ms %9.1f ms" % (label, best * 1000, best_cpu * 1000))
    if args.frames > 0:
        _bench_redraw(args)
    if args.pypy:
        _on_pypy(args)
    return 0


def _on_pypy(args) -> None:
    """The same benchmark in a pypy3 process (its output follows this one's)."""
    import shutil
    import subprocess
    exe = shutil.which("pypy3")
    if exe is None:
        raise OzError("pypy3 is not installed")
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.stdout.flush()
    done = subprocess.run([exe, "-m", "ozvm.cli", "bench", "display", args.image, "--repeat",
                           str(args.repeat), "--frames", str(args.frames)],
                          env=dict(os.environ, PYTHONPATH=src))
    if done.returncode != 0:
        raise OzError("the pypy3 run failed (exit status %d)" % done.returncode)


def redraw_times(path, frames) -> list:
    """Scratch's whole screen redrawn `frames` times by its own Morphic code, after
    `DisplayScreen startUp` and one frame: (frames, wall seconds, CPU seconds) of the first
    half (PyPy's JIT warming up) and of the second half (the steady state)."""
    from ..space.objectspace import ObjectSpace
    space = ObjectSpace.load(path)
    if space.global_named("World") is None or space.global_named("DisplayScreen") is None:
        raise OzError("the image has no Morphic World to redraw")
    space.evaluate("DisplayScreen startUp. World fullRepaintNeeded; displayWorld. 0")   # warm up
    halves = []
    for n in (frames // 2, frames - frames // 2):
        wall, cpu = time.perf_counter(), time.process_time()
        if n:
            space.evaluate("%d timesRepeat: [World fullRepaintNeeded; displayWorld]. 0" % n)
        halves.append((n, time.perf_counter() - wall, time.process_time() - cpu))
    return halves


def _bench_redraw(args) -> None:
    """Scratch's whole screen redrawn by its own Morphic code (see cmd_bench_display)."""
    first, second = redraw_times(args.image, args.frames)
    whole = (args.frames, first[1] + second[1], first[2] + second[2])
    print("Morphic redraw of the whole %s screen on %s (%d frames, load average %.1f)"
          % (os.path.basename(args.image), _python(), args.frames, load_average()))
    print("  %-42s %12s %12s" % ("frames per second", "wall clock", "CPU time"))
    for label, (frames, wall, cpu) in (("all %d frames" % whole[0], whole),
                                       ("first %d (warm-up)" % first[0], first),
                                       ("last %d (steady state)" % second[0], second)):
        if frames:
            print("  %-42s %8.2f fps %8.2f fps" % (label, frames / wall, frames / cpu))


def _python() -> str:
    import platform
    return "%s %s" % (platform.python_implementation(), platform.python_version())
