"""Waiting for something to become true: the kit's one poll-until-deadline loop.

Servers take a moment to answer, containers to start, engines to boot. Every such wait
in the kit is :func:`wait_until`: call a predicate every ``interval`` seconds until it
returns something true, and when ``timeout`` seconds pass first, raise a
:class:`~labhelpers.errors.WaitTimeout` (or the caller's own :class:`LabError`) that says
what was awaited and what to do. Modelled on testcontainers-python's
``core/waiting_utils.py``.

>>> from labhelpers.waiting import wait_until
>>> tries = iter([None, None, "up"])
>>> wait_until(lambda: next(tries), timeout=5, interval=0)
'up'

Introduced in ``01-python-apps-in-docker`` (apps and registries wait with it).
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from .errors import LabError, WaitTimeout

T = TypeVar("T")


def _names_lab_error(ignore: tuple[type[BaseException], ...], err: LabError) -> bool:
    return any(issubclass(kind, LabError) and isinstance(err, kind) for kind in ignore)


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.2,
               what: str = "the condition", todo: str = "try again; if it keeps failing, "
               "look at the logs of what it waited for", error: type[LabError] | None = WaitTimeout,
               ignore: tuple[type[BaseException], ...] = ()) -> T:
    """Call ``predicate`` until it returns a true value, at most ``timeout`` seconds.

    The predicate is always called at least once, and once more at the deadline.
    To stop early (a container exited), the predicate raises its own error: a
    :class:`LabError` ends the wait even when ``ignore`` names a parent class such as
    ``Exception``; it means "not yet" only when ``ignore`` names a :class:`LabError`
    class it belongs to (``ignore=(EngineError,)`` while an engine boots).

    Args:
        predicate: called without arguments; its first true result is returned.
        timeout: seconds to wait at most.
        interval: seconds between two calls.
        what: what is awaited, for the message (``"the registry at http://...:5000"``).
        todo: what the learner should do when it did not happen.
        error: the :class:`LabError` subclass raised at the deadline; None returns the
            predicate's last (false) value instead of raising.
        ignore: exception types that mean "not yet" (``requests.RequestException``,
            ``EngineError`` while an engine boots); the last one is named in the message.

    Returns:
        The predicate's first true value (or its last value when ``error`` is None).

    Raises:
        WaitTimeout: ``timeout`` passed first (or ``error``, when given).

    >>> wait_until(lambda: False, timeout=0, what="a miracle", todo="be patient")
    Traceback (most recent call last):
    ...
    labhelpers.errors.WaitTimeout: Waited 0 s for a miracle, in vain.
    What to do: be patient
    >>> wait_until(lambda: 0, timeout=0, error=None)
    0
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    value = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except ignore as err:  # noqa: PERF203 (a poll loop)
            if isinstance(err, LabError) and not _names_lab_error(ignore, err):
                raise  # the predicate's own verdict: stop waiting
            last = err
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(interval, left))
    if error is None:
        return value
    because = f" (last: {type(last).__name__}: {str(last)[:200]})" if last is not None else ""
    raise error(f"Waited {timeout:g} s for {what}, in vain{because}.", todo)
