"""Primitive 97 (snapshot): the image writes itself, as the C VM's primitiveSnapshot does.

The primitive's answer is `true` in the saved image and `false` in the running one: the
receiver is replaced by true, the active context's registers are stored and the active
process's suspendedContext set (so the saved image resumes in the process that asked, just
after the send), the image is encoded, then the running image goes on with false.

The file is `imageName` (primitive 121), written through the space's file policy (a deny or
read-only policy fails the primitive; an overlay keeps it in its scratch folder), atomically
(files.FileTable.save_image). The image a space was loaded from is never overwritten: when
imageName names an image of the VM's spaces (by default it names the input image), the
snapshot goes to a new file beside it, NAME-snapshot.image, and imageName names that file
from then on, as after `Smalltalk saveAs:`.
"""
from __future__ import annotations

from ..image.formats import encode_image
from ..memory.contexts import SUSPENDED_CONTEXT
from .base import PrimitiveFailed, raw_primitive


@raw_primitive(97)
def snapshot(interp, argc):
    path = getattr(interp, "image_path", None)
    if argc != 0 or not path or interp.ctx is None:
        return False
    stack, sp = interp.stack, interp.sp
    receiver = stack[sp]
    proc = interp.active_process()
    stack[sp] = interp.true                 # what the saved image's process will see
    interp.store_registers()
    proc.ptrs[SUSPENDED_CONTEXT] = interp.ctx
    try:
        data = encode_image(interp.heap)
    finally:
        proc.ptrs[SUSPENDED_CONTEXT] = interp.nil
        stack[sp] = receiver
    try:
        written = interp.files.save_image(path, data)
    except PrimitiveFailed:
        return False
    interp.image_path = written
    stack[sp] = interp.false
    return True
