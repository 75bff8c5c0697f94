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
