"""The load benchmark's steady figures (``bench/load.py``): they count only requests sent after every simulated
person's log-in was answered, however long the log-ins took."""

from __future__ import annotations

from bench.load import Results


def _morning(people: int) -> Results:
    results = Results(people=people)
    results.started = 0.0
    return results


def test_the_steady_window_opens_when_the_last_log_in_is_answered_not_at_a_fixed_time():
    results = _morning(people=3)
    results.arrive(4.0)
    results.arrive(9.0)
    results.record("search", 10.0, 12.5)  # the third person's password is still being checked: a busy server
    assert results.steady == []
    results.arrive(30.0)  # long after the ramp: on a slow machine 200 slow hashes take their time
    results.record("search", 29.0, 31.0)  # sent before the last log-in was answered
    results.record("article", 31.0, 31.25)
    assert results.steady_from == 30.0
    assert results.steady == [250.0]
    assert results.latencies == {"search": [2500.0, 2000.0], "article": [250.0]}


def test_a_person_who_never_got_in_still_counts_as_arrived():
    results = _morning(people=2)
    results.arrive(3.0)  # logged in
    results.arrive(5.0)  # refused, or too late to start: nobody is left to wait for
    assert results.steady_from == 5.0
    results.arrive(8.0)  # a stray extra call does not move the window
    assert results.steady_from == 5.0


def test_without_everybody_in_there_are_no_steady_figures():
    results = _morning(people=2)
    results.arrive(3.0)
    results.record("start", 4.0, 4.1)
    assert results.steady == []
    assert results.steady_from == float("inf")
