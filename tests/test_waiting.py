"""The kit's one poll loop: labhelpers.waiting.wait_until (pure logic, no engine)."""

from __future__ import annotations

import time

import pytest

from labhelpers.errors import EngineError, LabError, RoomError, WaitTimeout
from labhelpers.waiting import wait_until


def test_returns_the_first_true_value():
    answers = iter([None, 0, "", {"ok": 1}, "never"])
    assert wait_until(lambda: next(answers), timeout=5, interval=0) == {"ok": 1}


def test_times_out_with_what_and_what_to_do():
    start = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        wait_until(lambda: False, timeout=0.3, interval=0.05, what="the registry", todo="start it")
    assert 0.3 <= time.monotonic() - start < 2
    assert caught.value.what.startswith("Waited 0.3 s for the registry")
    assert caught.value.todo == "start it"
    assert isinstance(caught.value, LabError)


def test_the_callers_error_class_and_the_last_ignored_error():
    def refuse():
        raise ConnectionRefusedError("nobody listens")

    with pytest.raises(RoomError, match="ConnectionRefusedError: nobody listens"):
        wait_until(refuse, timeout=0.1, interval=0.02, error=RoomError, ignore=(OSError,))


def test_errors_not_ignored_end_the_wait_at_once():
    calls = []

    def broken():
        calls.append(1)
        raise KeyError("x")

    with pytest.raises(KeyError):
        wait_until(broken, timeout=5, ignore=(OSError,))
    assert len(calls) == 1


def test_a_lab_error_ends_the_wait_even_when_its_parent_is_ignored():
    def exited():
        raise RoomError("The hub exited.", "read its log")

    start = time.monotonic()
    with pytest.raises(RoomError, match="The hub exited"):
        wait_until(exited, timeout=5, ignore=(Exception,))
    assert time.monotonic() - start < 1


def test_a_lab_error_named_in_ignore_means_not_yet():
    # daemon.start waits so for a dockerd it just spawned: until it listens, the
    # engine's diagnosis is an EngineError ("a stale socket"), which is not a verdict.
    answers = iter([EngineError("The socket exists but no daemon listens on it.", "start it"),
                    EngineError("still booting", "wait"), "running"])

    def booting():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(booting, timeout=5, interval=0, ignore=(EngineError,)) == "running"

    def never():
        raise EngineError("The socket exists but no daemon listens on it.", "start it")

    with pytest.raises(WaitTimeout, match="EngineError: The socket exists"):
        wait_until(never, timeout=0.1, interval=0.02, ignore=(EngineError,))


def test_error_none_returns_the_last_value_instead_of_raising():
    assert wait_until(lambda: [], timeout=0.05, interval=0.01, error=None) == []


def test_the_predicate_runs_once_more_at_the_deadline():
    calls = []
    wait_until(lambda: calls.append(1), timeout=0.25, interval=10, error=None)
    assert len(calls) == 2  # at once, then at the deadline (the interval is cut short)
