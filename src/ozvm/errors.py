"""The exceptions ozvm raises to its host-side callers."""
from __future__ import annotations


class OzError(Exception):
    """Base of every error ozvm raises on purpose."""


class ImageFormatError(OzError):
    """An image file is not a well-formed image of a supported format.

    The message names the byte offset in the file and what was expected there.
    """

    def __init__(self, message: str, offset: int | None = None):
        self.offset = offset
        if offset is not None:
            message = "at offset %d: %s" % (offset, message)
        super().__init__(message)


class UnsupportedImageFormat(ImageFormatError):
    """A recognised image format that ozvm cannot read yet (e.g. Spur)."""


class MembraneError(OzError):
    """Something tried to cross the membrane that may not (a host object into a guest,
    an object of one space into another, a wrong kind of mirror)."""


class MirrorIndexError(MembraneError, IndexError):
    """An index outside an object's fields, literals or bytes (1-based as in Smalltalk);
    also an IndexError, as for a Python sequence."""


class MirrorKeyError(MembraneError, KeyError):
    """A name an object or class does not have (an instance or class variable); also a
    KeyError, as for a Python mapping."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class CompileError(OzError):
    """Smalltalk source the compiler cannot accept; names the line and column (1-based)
    and what was expected there."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 offset: int | None = None):
        self.line, self.column, self.offset = line, column, offset
        self.reason = message
        if line is not None:
            message = "line %d, column %d: %s" % (line, column, message)
        super().__init__(message)


class GuestError(OzError):
    """A guest computation run by the host ended in a guest error (for Squeak 2.2, the
    activation of `Debugger class>>openContext:label:contents:`; for PharoCandle its
    error method). `message` is the guest's label, `stack` the guest's stack at the
    error as 'Class>>selector' strings (innermost first)."""

    def __init__(self, message: str, stack=None):
        self.message = message
        self.stack = list(stack or [])
        text = message
        if self.stack:
            text += "\n" + "\n".join("  " + s for s in self.stack[:20])
        super().__init__(text)


class GuestTimeout(GuestError):
    """A guest computation did not finish within the host's time or bytecode limit."""


class VMError(OzError):
    """The guest did something the VM cannot go on from (an invalid bytecode, a recursive
    doesNotUnderstand:...), or a primitive raised an unexpected Python error (a bug of
    ozvm: the message names the primitive)."""


class GuestQuit(OzError):
    """The guest asked to quit (primitive 113, `Smalltalk quitPrimitive`)."""

    def __init__(self, message: str = "the guest quit (primitive 113)"):
        super().__init__(message)


class GuestExitToDebugger(OzError):
    """The guest asked the VM to stop in a low-level debugger (primitive 114); a headless
    VM has none, so the run ends with this error."""

    def __init__(self, message: str = "the guest called exitToDebugger (primitive 114)"):
        super().__init__(message)


class GuestRecursionError(GuestError):
    """A guest process stopped by the host because its errors recurse: `kind` is 'nested'
    (an error raised while the guest handles an error), 'repeated' (the same unhandled
    error signalled again and again) or 'depth' (its stack grew past the interpreter's
    max_stack_depth). `process` is a ProcessMirror on the stopped process (suspended, its
    stack kept as it was) when the space knows it, else None."""

    def __init__(self, message: str, stack=None, kind: str = "nested", process=None):
        super().__init__(message, stack)
        self.kind = kind
        self.process = process
