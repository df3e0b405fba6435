"""The bench's verdict: `python -m bench` exits 1 when any row misses its target, and every
target can be tightened from the environment (how the exit status is checked by hand)."""

from __future__ import annotations

from bench import Row, paired, ratios, target
from bench.__main__ import main, report


def _row(ok: bool) -> Row:
    return Row("x", "1 ms", "1 ms", 1.0, "≤ 1.15x", ok)


def test_exit_status_follows_the_rows(capsys):
    assert report([_row(True), _row(True)]) == 0
    assert "all 2 targets met" in capsys.readouterr().out
    assert report([_row(True), _row(False)]) == 1
    assert "1 target(s) missed" in capsys.readouterr().out
    assert main(["no-such-benchmark"]) == 2


def test_targets_move_with_the_environment(monkeypatch):
    assert target("capture", 1.15) == 1.15
    monkeypatch.setenv("CNNVIZ_TARGET_CAPTURE", "0.5")
    assert target("capture", 1.15) == 0.5


def test_paired_ratios_are_round_by_round():
    calls = []
    med, times = paired({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeat=4, warmup=1)
    assert calls == ["a", "b"] + ["a", "b", "b", "a", "a", "b", "b", "a"]  # warm-up, then the order rotates
    assert set(med) == {"a", "b"} and all(len(v) == 4 for v in times.values())
    assert ratios({"a": [2.0, 3.0], "b": [1.0, 2.0]}, "a", "b") == [2.0, 1.5]


def test_lesson_propagation_counts_a_move_never_shown_as_infinitely_late():
    from bench.bench_lessons import Follower, Move, propagation

    moves = [Move(0, 1, 100.0), Move(1, 2, 105.0)]
    fast, slow = Follower(shown={0: 100.5, 1: 106.25}), Follower(shown={1: 109.0})  # slow never showed move 0
    assert propagation([fast, slow], moves) == [0.5, float("inf"), 1.25, 4.0]


def test_the_hostiles_tabs_running_at_once_are_counted_by_spans():
    from bench.hostile_class import most_at_once

    # tab 0's job ends after its poll at t=5; tab 1's next job was first seen at 5.5
    handover = [[(t, t <= 5) for t in range(9)], [(t + 0.5, t + 0.5 >= 5.5) for t in range(9)]]
    assert most_at_once(handover) == 1  # the last poll of one, the first of the next: not two
    both = [[(t, True) for t in range(9)], [(t + 0.5, 3 <= t <= 6) for t in range(9)]]
    assert most_at_once(both) == 2  # tab 1 computed from 3.5 to 6.5 while tab 0 did
    waiting = [[(t, False) for t in range(9)], [(t, True) for t in range(9)], []]
    assert most_at_once(waiting) == 1
