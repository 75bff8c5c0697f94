"""Image surgery from the command line: `oz diff`, `oz fileout`, `oz filein`.

    oz diff A.image B.image [--source]        what differs (classes, methods `+ - ~`, globals);
                                              exit 0 when equal, 1 when they differ, 2 on error
    oz fileout IMAGE CLASS|CATEGORY|Class>>selector [-o FILE]
                                              chunk format (the `!` fileOut format)
    oz filein IMAGE FILE.st [FILE.cs ...] -o OUT.image
                                              file the code in with ozvm's compiler (class
                                              definitions through the image's own code where it
                                              has it); all or nothing, then an atomic save
"""
from __future__ import annotations

import os
import sys
import traceback

from ..errors import OzError


def add_commands(sub) -> None:
    p = sub.add_parser("diff", help="what differs between two images, class by class and method by "
                                    "method (exit 0 equal, 1 different, 2 error)")
    p.add_argument("a", metavar="A.image")
    p.add_argument("b", metavar="B.image")
    p.add_argument("--source", action="store_true", help="a unified diff of the (decompiled) source "
                                                         "of each changed method")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("fileout", help="write a class, a class category or a method in chunk format")
    p.add_argument("image")
    p.add_argument("what", metavar="CLASS|CATEGORY|Class>>selector")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.set_defaults(func=cmd_fileout)

    p = sub.add_parser("filein", help="file chunk-format code into an image and save it (all or nothing)")
    p.add_argument("image")
    p.add_argument("files", nargs="+", metavar="FILE.st")
    p.add_argument("-o", "--output", metavar="OUT.image", required=True, help="the image to write")
    p.set_defaults(func=cmd_filein)


def _load(path):
    from ..space.objectspace import ObjectSpace
    return ObjectSpace.load(path)


def cmd_diff(args) -> int:
    try:
        a, b = _load(args.a), _load(args.b)
        d = a.diff(b)
        lines = d.lines(source=args.source)
    except Exception as e:          # diff's convention: 2 for trouble, as diff(1)
        if getattr(args, "debug", False):
            traceback.print_exc()
        kind = "" if isinstance(e, (OzError, OSError)) else "internal error (%s): " % type(e).__name__
        print("oz: error: %s%s" % (kind, str(e).splitlines()[0] if str(e) else type(e).__name__),
              file=sys.stderr)
        return 2
    if not d:
        return 0
    print("--- %s" % args.a)
    print("+++ %s" % args.b)
    for line in lines:
        print(line)
    return 1


def cmd_fileout(args) -> int:
    space = _load(args.image)
    text = space.fileout(args.what)
    if args.output:
        if os.path.exists(args.output) and os.path.samefile(args.output, args.image):
            raise OzError("refusing to overwrite the input image %s" % args.image)
        from ..image.files import atomic_write
        atomic_write(args.output, text.encode("latin-1", "replace"))
        print("wrote %s (%d bytes)" % (args.output, len(text)))
    else:
        sys.stdout.write(text.replace("\r", "\n"))
    return 0


def cmd_filein(args) -> int:
    out = args.output
    for given in [args.image] + list(args.files):
        if os.path.exists(out) and os.path.exists(given) and os.path.samefile(out, given):
            raise OzError("refusing to overwrite the input file %s (input files are never modified)" % given)
    space = _load(args.image)
    result = space.filein(list(args.files))
    space.save(out)
    print("filed in %s: %s; saved %s" % (", ".join(args.files), result.summary(), out))
    return 0
