"""Reading and writing the host's files safely: the one way ozvm opens an image to read and
writes any file it saves (images, .changes, screenshots, file-outs).

Reading (`read_image_data`): only a regular file is read. A FIFO, a device, a directory or
a socket is refused at once, from its `stat`, before it is opened; the file is then opened
without blocking (a FIFO swapped in meanwhile cannot hang the open) and checked again.
The header's sizes are checked against the file's size, and against the memory the image
may take (the space's memory limit, or the process's backstop; memory/accounting.py's
`image_fits`), before the object memory is read; only the bytes the header declares are
read, into one buffer: a header claiming more than the file holds, or a forged header
matching a sparse (mostly holes) file of gigabytes, is refused without allocating it.

Writing (`atomic_write`): the data goes to a temporary file in the target's folder, is
flushed to disk, then renamed over the target, so a reader sees the old file or the new
one, never a part. The target must be a regular file or not exist: a device (`/dev/null`),
a FIFO, a directory or a socket is refused (its node is never replaced), and so is any
file passed in `protect` (a space's own input image). A symbolic link is followed: the
file it points to is replaced and the link stays. The new file keeps the replaced file's
permission bits (and owner, where allowed); a new file gets 0666 less the umask, as any
file a program creates. Temporary files are named `<name>.oz-<pid>-<random>.tmp`; one
left behind by a process that died (or older than an hour) is removed by the next save
into that folder.
"""
from __future__ import annotations

import os
import re
import stat
import time

from ..errors import ImageFormatError, OzError

HEAD_BYTES = 512 + 4096 + 64      # an optional 512-byte prefix, then the largest header
STALE_SECONDS = 3600
TEMP_PATTERN = re.compile(r"^(?P<name>.+)\.oz-(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def kind_of(mode: int) -> str:
    """'a directory', 'a FIFO', ... for a stat mode that is not a regular file's."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


# --- reading ------------------------------------------------------------------------------

def read_image_data(path: str, declared_length=None) -> bytearray:
    """The bytes of the image file at `path` that its header declares (all of them if
    `declared_length` is None; else `declared_length(head, file_size)` answers how many
    to read, or raises an OzError: too many for the file, or for the memory the image may
    take). Read into one buffer of that size, nothing else allocated for them.
    ImageFormatError for anything but a regular file, or when the file cannot be read."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise ImageFormatError("cannot read image file %s: %s" % (path, e.strerror or e)) from None
    if not stat.S_ISREG(st.st_mode):
        raise ImageFormatError("%s is %s, not an image file" % (path, kind_of(st.st_mode)))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise ImageFormatError("cannot read image file %s: %s" % (path, e.strerror or e)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ImageFormatError("%s is %s, not an image file" % (path, kind_of(st.st_mode)))
        with os.fdopen(fd, "rb", closefd=False) as f:
            head = f.read(HEAD_BYTES)
            length = st.st_size if declared_length is None else declared_length(head, st.st_size)
            if length <= len(head):
                return bytearray(head[:length])
            data = bytearray(length)
            view = memoryview(data)
            view[:len(head)] = head
            done = len(head)
            while done < length:
                n = f.readinto(view[done:])
                if not n:
                    raise ImageFormatError("cannot read image file %s: it ended at %d bytes, "
                                           "before the %d its header declares" % (path, done, length))
                done += n
            view.release()
            return data
    except OSError as e:
        raise ImageFormatError("cannot read image file %s: %s" % (path, e.strerror or e)) from None
    finally:
        os.close(fd)


# --- writing ------------------------------------------------------------------------------

def check_target(path: str, protect=()) -> str:
    """The file a save to `path` replaces (a link followed), after checking it may be
    replaced: OzError for a directory, device, FIFO or socket, and for a file in `protect`."""
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OzError("cannot write %s: %s" % (path, e.strerror or e)) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OzError("refusing to write over %s: it is %s, not a regular file"
                      % (path, kind_of(st.st_mode)))
    if not os.path.isdir(os.path.dirname(target)):
        raise OzError("cannot write %s: no folder %s" % (path, os.path.dirname(target)))
    if st is not None:
        for other in protect:
            if other and _same_file(target, other):
                raise OzError("refusing to overwrite %s: it is the input image (input files are "
                              "never modified)" % path)
    return target


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def atomic_write(path: str, data: bytes, protect=()) -> None:
    """Write `data` to `path` atomically (see the module's docstring); OzError on refusal
    or when the host refuses the write."""
    target = check_target(path, protect)
    folder = os.path.dirname(target)
    clean_stale_temps(folder)
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    tmp = os.path.join(folder, "%s.oz-%d-%s.tmp" % (os.path.basename(target), os.getpid(),
                                                    os.urandom(4).hex()))
    try:
        # created 0666 less the umask, as a new file of any program
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        try:
            if old is not None:
                os.fchmod(fd, stat.S_IMODE(old.st_mode))
                if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
                    try:
                        os.fchown(fd, old.st_uid, old.st_gid)
                    except OSError:
                        pass
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise OzError("cannot write %s: %s" % (path, e.strerror or e)) from None
        raise


def clean_stale_temps(folder: str, now: float | None = None) -> list:
    """Remove the temporary files of saves into `folder` whose process is gone (or that
    are older than an hour); answer their names. Never raises."""
    removed = []
    now = time.time() if now is None else now
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = TEMP_PATTERN.match(name)
        if m is None:
            continue
        path = os.path.join(folder, name)
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                continue
            if _alive(int(m.group("pid"))) and now - st.st_mtime < STALE_SECONDS:
                continue
            os.unlink(path)
            removed.append(name)
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    except OSError:
        return True
    return True

