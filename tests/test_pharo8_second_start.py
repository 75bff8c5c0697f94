"""The Pharo 8 kernel's second start: the image its first start saved resumes after
`Smalltalk snapshot: true andQuit: true`, where its startup asks the FilePlugin what the
standard streams are (primitiveFileDescriptorType, for Stdio), then terminates its startup
process; with no command line and no UI the image idles with its background processes
(the Delay scheduler, finalization, the low-space watcher). Before ozvm had the primitive,
each start logged `PrimitiveFailed: primitive #fileDescriptorType: in File class failed`
to PharoDebug.log and kept failing. Counted in bytecodes, not time."""
from __future__ import annotations

import os
import shutil

import pytest

from conftest import image_path
from ozvm.memory import specials as S
from ozvm.space import execution
from ozvm.vm import VM


@pytest.mark.slow
def test_the_saved_pharo8_kernel_starts_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)             # where the image would write PharoDebug.log
    shutil.copy(image_path("pharo8-kernel-spur64.image"), tmp_path / "Pharo.image")
    first = VM().load(str(tmp_path / "Pharo.image"))
    interp = execution.interpreter_for(first)
    execution.let_guest_handle_errors(first)
    assert interp.run(max_bytecodes=20000000) == "quit"
    saved = tmp_path / "Pharo-snapshot.image"
    assert saved.exists()

    space = VM().load(str(saved))
    heap = space.heap
    interp = execution.interpreter_for(space)
    execution.let_guest_handle_errors(space)
    startup = heap.special(S.SCHEDULER_ASSOCIATION).ptrs[1].ptrs[1]     # resumes the snapshot

    lists = heap.special(S.SCHEDULER_ASSOCIATION).ptrs[1].ptrs[0].ptrs

    def startup_done(interp):
        # neither running, nor runnable, nor waiting: in no list (terminated); and no
        # process it let run left preempted half-way (by the timer's process, which a
        # slow or loaded machine runs at another moment): none runnable but the idle one
        return interp.active_process() is not startup and startup.ptrs[3] is heap.nil \
            and all(ready.ptrs[0] is heap.nil for ready in lists[10:])
    interp.host_poll = startup_done
    assert interp.run(max_bytecodes=10000000) == "stopped"
    interp.host_poll = None
    assert not os.path.exists(tmp_path / "PharoDebug.log")
    assert space.file_denials() == []
    frames = [str(f) for p in space.processes() for f in p.frames()]
    for waiting in ("DelayMicrosecondTicker>>waitForUserSignalled:orExpired:",
                    "WeakArray class>>finalizationProcess", "SmalltalkImage>>lowSpaceWatcher"):
        assert any(f.startswith(waiting) for f in frames), frames
    assert not any("snapshot:andQuit:" in f or "PharoBootstrapInitialization" in f for f in frames)
    # what the image asked: the type of each standard stream (1 tty, 2 pipe, 3 file)
    assert execution.run_send(space, space.global_named("File"), "fileDescriptorType:", [1]) \
        in (1, 2, 3)


def test_file_descriptor_type_of_the_standard_streams():
    """1 a terminal, 2 a pipe, 3 a file (sqFileDescriptorType), -1 for any other number
    (a space has no host descriptors of its own); a non-SmallInteger fails; a space whose
    policy gives it no standard streams is refused (the refusal logged)."""
    import stat

    from prims_fake import FAILED, FakeInterp, call, shared_heap
    from ozvm.prims.file_policy import FilePolicy
    interp = FakeInterp(shared_heap("pharocandle.image"))
    prim = ("FilePlugin", "primitiveFileDescriptorType")
    for fd in (0, 1, 2):
        if os.isatty(fd):
            expected = 1
        else:
            try:
                expected = 2 if stat.S_ISFIFO(os.fstat(fd).st_mode) else 3
            except OSError:
                expected = -1
        assert call(interp, prim, interp.heap.nil, fd) == expected
    assert call(interp, prim, interp.heap.nil, 7) == -1
    assert call(interp, prim, interp.heap.nil, interp.heap.nil) is FAILED
    interp.files.policy = FilePolicy.deny()
    assert call(interp, prim, interp.heap.nil, 1) is FAILED
    assert interp.files.denied[-1].operation == "standard streams"
