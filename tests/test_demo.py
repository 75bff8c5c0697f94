"""`oz demo` on the kernel image: bootstrapped once into the cache, then reused."""
from __future__ import annotations

from ozvm.cli import main


def test_demo_bootstraps_then_reuses_the_kernel_image(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["demo", "--timeout", "0.3"]) == 0
    out = capsys.readouterr().out
    assert "bootstrapped from the kernel sources" in out
    assert "100 factorial printString size" in out and "-> 158" in out
    assert "the host stopped it after" in out and "A still answers 3 + 4 -> 7" in out
    assert "B: 5 factorial -> 'changed in B only'" in out
    assert "A: 5 factorial -> 120" in out
    assert len(list((tmp_path / "ozvm").glob("kernel-*.image"))) == 1
    assert main(["demo", "--timeout", "0.3"]) == 0
    assert "reused the cached image" in capsys.readouterr().out
