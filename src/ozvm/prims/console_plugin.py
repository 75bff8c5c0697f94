"""ConsolePlugin (SqueakJS's plugins/ConsolePlugin.js): `primLog: message level: level`
writes the message and a newline to the host's console, as SqueakJS does with
console.log/info/warn/error. The headless Spur image prints through it."""
from __future__ import annotations

from ..memory.objects import SqObject
from .base import named_primitive

LEVELS = (b"log", b"info", b"warn", b"error")


def _text(obj):
    if obj.__class__ is not SqObject or obj.bytes is None or obj.ptrs is not None:
        return None
    return bytes(obj.bytes)


@named_primitive("ConsolePlugin", "primitiveLog:level:", raw=True)
def primitive_log(interp, argc):
    """Answers the receiver; fails unless message and level are byte strings and the
    level is one of log, info, warn, error."""
    if argc != 2:
        return False
    message = _text(interp.stack[interp.sp - 1])
    level = _text(interp.stack[interp.sp])
    if message is None or level not in LEVELS:
        return False
    interp.transcript_out(message.decode("latin-1") + "\n")
    interp.sp -= 2
    return True
