"""CPU shares: spaces of one VM busy-looping under the VM's round robin each get their
share. The shares are checked on the work clock (`vm.run(bytecodes=...)`), where the
figures are counts of bytecodes and of the guests' own loop iterations (read through
mirrors), never wall time: the same on a quiet or a loaded machine."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.errors import OzError
from ozvm.vm import VM

LOOP = "| n | n := 0. [true] whileTrue: [n := n + 1]"
SLICE = 20000


def _iterations(proc) -> int:
    n = proc.suspended_context().temps()[0].to_local()
    return 0 if n is None else n


def _setup():
    vm = VM()
    a = vm.load(image_path("squeak2.2-mini.image"))
    b = vm.load(image_path("pharocandle.image"))
    pa = a.create_process(LOOP, priority=80)
    pb = b.create_process(LOOP, priority=80)
    return vm, a, b, pa, pb


def _bytecodes_per_iteration(space, proc) -> float:
    """What one turn of the loop costs in this image (its compiler's code), counted."""
    space.transfer_control(bytecodes=1000)
    n0 = _iterations(proc)
    space.transfer_control(bytecodes=100000)
    return space.last_transfer.bytecodes / (_iterations(proc) - n0)


def test_two_busy_spaces_get_their_shares_of_the_work_clock():
    vm, a, b, pa, pb = _setup()
    cost_a = _bytecodes_per_iteration(a, pa)
    cost_b = _bytecodes_per_iteration(b, pb)
    a.cpu_share, b.cpu_share = 0.3, 0.5
    na, nb = _iterations(pa), _iterations(pb)
    total = 2000000
    stats = vm.run(bytecodes=total, slice_bytecodes=SLICE)
    run = stats[a]["bytecodes"] + stats[b]["bytecodes"]
    for space in (a, b):
        st = stats[space]
        assert set(st["reasons"]) == {"quantum"}
        # the VM's accounting: each space's part of the clock, within a slice of its share
        assert abs(st["share"] - space.cpu_share) <= SLICE / total + 0.005, st
        assert abs(st["bytecodes"] / total - space.cpu_share) <= SLICE / total + 0.005, st
        # quanta: no transfer ran past a slice (and a heartbeat's last bytecodes)
        assert st["transfers"] >= st["bytecodes"] // (SLICE + 4000)
    # the clock counted everything that ran, and the host's idle turns (0.2 of it)
    assert 0.75 * total <= run <= 0.81 * total
    # the guests' own work agrees: loop turns, at each image's cost per turn
    work_a = (_iterations(pa) - na) * cost_a
    work_b = (_iterations(pb) - nb) * cost_b
    assert abs(work_a / work_b - 0.6) <= 0.05 * 0.6, (work_a, work_b)


def test_the_work_clock_is_deterministic():
    """Two runs from the same start give the same counts (no wall time involved)."""
    results = []
    for _ in range(2):
        vm, a, b, pa, pb = _setup()
        a.cpu_share, b.cpu_share = 0.25, 0.5
        stats = vm.run(bytecodes=300000, slice_bytecodes=SLICE)
        results.append([(stats[s]["bytecodes"], stats[s]["transfers"]) for s in (a, b)]
                       + [_iterations(pa), _iterations(pb)])
    assert results[0] == results[1]


def test_shares_over_one_are_refused():
    vm, a, b, pa, pb = _setup()
    a.cpu_share, b.cpu_share = 0.7, 0.5
    with pytest.raises(OzError, match="more than 1"):
        vm.run(bytecodes=1000)
    with pytest.raises(OzError, match="seconds or bytecodes"):
        vm.run()


def test_an_idle_space_gives_its_time_away():
    vm, a, b, pa, pb = _setup()
    pb.terminate()
    for p in b.processes():
        p.suspend()
    a.cpu_share, b.cpu_share = 0.4, 0.4
    stats = vm.run(bytecodes=500000, slice_bytecodes=SLICE)
    assert stats[b]["bytecodes"] == 0 and set(stats[b]["reasons"]) == {"idle"}
    assert abs(stats[a]["share"] - 0.4) <= SLICE / 500000 + 0.005


def test_a_space_that_had_an_error_keeps_its_share():
    vm, a, b, pa, pb = _setup()
    top = len(b.scheduler().ready_list_objects())
    pb.priority(top - 1)
    b.create_process("nil zork", priority=top)          # fails first, then pb goes on
    a.cpu_share, b.cpu_share = 0.4, 0.4
    stats = vm.run(bytecodes=1000000, slice_bytecodes=SLICE)
    assert stats[b]["reasons"].get("error") == 1
    for space in (a, b):
        assert abs(stats[space]["share"] - 0.4) <= 2 * SLICE / 1000000 + 0.005, stats[space]


def test_the_wall_clock_round_robin_runs_every_busy_space():
    """vm.run(seconds) uses the same round robin on wall time; its shares are measured by
    `oz bench` (tests do not time), here only that both spaces ran in quanta."""
    vm, a, b, pa, pb = _setup()
    a.cpu_share, b.cpu_share = 0.3, 0.5
    stats = vm.run(seconds=0.2)
    for space, proc in ((a, pa), (b, pb)):
        assert stats[space]["transfers"] >= 1 and stats[space]["bytecodes"] > 0
        assert set(stats[space]["reasons"]) == {"quantum"}
        assert _iterations(proc) > 0
