"""`oz demo`: the Oz features at work on ozvm's own kernel image, in a short readable run.

    oz demo [--rebuild] [--timeout S]

The kernel image is bootstrapped from the package's sources, or reused from the cache
(`$XDG_CACHE_HOME/ozvm` or `~/.cache/ozvm`, named by a digest of the sources, so a changed
kernel gets a new image). Two guest spaces are loaded from it, side by side, and the host
looks at them through mirrors, evaluates expressions in one, stops a runaway computation,
and changes a method in the other only.
"""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

from ..errors import GuestTimeout


def add_commands(sub) -> None:
    p = sub.add_parser("demo", help="show the Oz features on two guests of ozvm's own kernel image")
    p.add_argument("--rebuild", action="store_true", help="bootstrap the kernel image even if cached")
    p.add_argument("--timeout", type=float, default=1.0, metavar="S",
                   help="how long the runaway computation may run (default 1 s)")
    p.set_defaults(func=cmd_demo)


def cache_directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ozvm")


def sources_digest() -> str:
    """A digest of everything the kernel image is made from."""
    from ..bootstrap.kernel_source import kernel_directory
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = sorted(glob.glob(os.path.join(kernel_directory(), "*")))
    files += sorted(glob.glob(os.path.join(here, "bootstrap", "*.py")))
    files += sorted(glob.glob(os.path.join(here, "compiler", "*.py")))
    digest = hashlib.sha256()
    for path in files:
        digest.update(os.path.basename(path).encode())
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:12]


def kernel_image(rebuild: bool = False):
    """(path of the cached kernel image, how it was obtained)."""
    from .. import bootstrap
    path = os.path.join(cache_directory(), "kernel-%s.image" % sources_digest())
    if os.path.exists(path) and not rebuild:
        return path, "reused the cached image"
    start = time.perf_counter()
    space = bootstrap.build()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    space.save(path)
    return path, "bootstrapped from the kernel sources in %.2f s" % (time.perf_counter() - start)


def say(text: str = "") -> None:
    print(text)
    sys.stdout.flush()


def cmd_demo(args) -> int:
    from ..bootstrap.evaluation import print_string
    from ..compiler.api import install
    from ..space import execution
    from ..space.objectspace import ObjectSpace

    say("ozvm demo: two guest images of ozvm's own kernel, controlled from the host")
    say()
    path, how = kernel_image(args.rebuild)
    size = os.path.getsize(path)
    say("1. The kernel image: %s" % path)
    say("   %s (%d bytes, V3 6505 closure format)" % (how, size))

    a = ObjectSpace.load(path)
    b = ObjectSpace.load(path)
    say()
    say("2. Two guests, A and B, loaded from that file: separate object memories")
    say("   A: %d objects, %d classes;  B: %d objects;  A's Object is not B's Object: %s"
        % (len(a.objects()), len(a.classes()), len(b.objects()),
           a.class_named("Object") is not b.class_named("Object")))

    say()
    say("3. Mirrors: the host looks at guest objects without running guest code")
    point = a.mirror_on(a.class_named("Point"))
    say("   %s: superclass %s, instance variables %s, %d methods, compact class index %d"
        % (point.name(), point.superclass().name(), " ".join(point.instance_variable_names()),
           len(point.selectors()), point.compact_class_index()))
    meta = point.get_class()
    say("   its class is %s, whose class is %s" % (meta.name(), meta.get_class().name()))
    process = a.scheduler().active_process()
    say("   A's active process: priority %s, will resume in %s"
        % (process.priority(), process.suspended_context().describe()))

    say()
    say("4. Evaluation in A: ozvm's compiler makes the method, ozvm's interpreter runs it")
    for source in ("100 factorial printString size", "(1/3) + (1/6)", "#(3 1 2) asSortedArray",
                   "[1/0] on: ZeroDivide do: [:e | e messageText]", "nil foo"):
        say("   %-46s -> %s" % (source, print_string(a, source)))

    say()
    say("5. Interruption: A runs a runaway computation, [true] whileTrue")
    interp = execution.interpreter_for(a)
    before = interp.bytecodes
    start = time.perf_counter()
    try:
        execution.run_send(a, a.nil, "withArgs:executeMethod:",
                           [a.heap.new_array([]), _doit(a, "[true] whileTrue")], timeout=args.timeout)
        say("   it ended by itself (unexpected)")
    except GuestTimeout:
        say("   the host stopped it after %.1f s (%d bytecodes); A still answers 3 + 4 -> %s"
            % (time.perf_counter() - start, interp.bytecodes - before, print_string(a, "3 + 4")))

    say()
    say("6. Sandboxed change: B's Integer>>factorial is replaced; A keeps the original")
    install(b, b.class_named("Integer"), "factorial\n\t^ 'changed in B only'")
    execution.interpreter_for(b).flush_method_cache()
    say("   B: 5 factorial -> %s" % print_string(b, "5 factorial"))
    say("   A: 5 factorial -> %s" % print_string(a, "5 factorial"))

    vm = sorted(glob.glob("/usr/lib/squeak/*/squeakvm"))
    if vm:
        say()
        say("7. The same image file on its own VM (squeak-vm): its startup script writes")
        folder = tempfile.mkdtemp(prefix="ozdemo-")
        try:
            copy = os.path.join(folder, "kernel.image")
            shutil.copyfile(path, copy)
            subprocess.run([vm[-1], "-vm-display-null", "-vm-sound-null", copy], cwd=folder,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=60)
            with open(os.path.join(folder, "kernel.results.txt")) as f:
                for line in f.read().splitlines()[:4]:
                    say("   " + line.replace("\t", "  "))
        except (OSError, subprocess.SubprocessError) as e:
            say("   (could not run squeak-vm: %s)" % e)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _doit(space, source):
    from ..compiler.api import compile_doit
    return compile_doit(space, source)
