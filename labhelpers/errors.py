"""The kit's exceptions: one tree, rooted at :class:`LabError`.

Every message says what went wrong **and what to do**. In a notebook, a
``LabError`` is shown as that message alone, without a traceback wall
(IPython calls ``_render_traceback_``).

>>> from labhelpers.errors import LabError
>>> try:
...     raise LabError("No engine.", "Start one with `make engine`.")
... except LabError as err:
...     print(err)
No engine.
What to do: Start one with `make engine`.

Introduced in ``00-start-here``.
"""

from __future__ import annotations


class LabError(Exception):
    """Base of every error the kit raises on purpose.

    Args:
        what: what went wrong, one sentence.
        todo: what the learner should do about it.

    >>> err = LabError("The engine is not running.", "start it: `sudo systemctl start docker`")
    >>> print(err)
    The engine is not running.
    What to do: start it: `sudo systemctl start docker`

    Introduced in ``00-start-here``.
    """

    def __init__(self, what: str, todo: str = ""):
        self.what = what
        self.todo = todo
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.what}\nWhat to do: {self.todo}" if self.todo else self.what

    def _render_traceback_(self) -> list[str]:
        """Show only the message in IPython, not the traceback."""
        return [f"\x1b[1;31m{type(self).__name__}\x1b[0m: {self.what}"] + (
            [f"\x1b[1mWhat to do:\x1b[0m {self.todo}"] if self.todo else []
        )


class EngineError(LabError):
    """No usable Docker engine: the parent of every engine diagnosis."""


class EngineNotFound(EngineError):
    """The endpoint names a socket file that does not exist."""


class EngineNotRunning(EngineError):
    """The socket file exists, but no daemon listens on it."""


class EnginePermissionDenied(EngineError):
    """The socket exists, but this user may not open it."""


class EngineUnreachable(EngineError):
    """A network endpoint (DOCKER_HOST, a context) does not answer."""


class EngineTLSError(EngineError):
    """TLS is asked for (or needed) and the certificates are missing or wrong."""


class EngineTooOld(EngineError):
    """The engine answers, but speaks an API older than the kit needs."""


class EngineRefusesClient(EngineError):
    """The engine's oldest API is newer than the newest the kit's client speaks.

    Docker Engine 29 accepts API 1.44 and newer (any engine can be set so with
    ``DOCKER_MIN_API_VERSION``); docker-py 7.0 speaks at most 1.41. Every request
    of such a client would get ``400 client version ... is too old``.
    """


class EngineSetupError(EngineError):
    """Starting or installing an engine failed, or is not possible here."""


class ImageError(LabError):
    """An image of the catalogue could not be made present."""


class CleanupError(LabError):
    """Cleanup could not remove something it owns."""


class MachineError(LabError):
    """A docker machine could not be created, reached, or removed (notebook 03)."""


class PodmanStartError(EngineError):
    """Podman answers, but cannot start containers here (rlimits above the host's, crun on hybrid cgroups)."""


class ExtraMissing(LabError):
    """A notebook needs an optional part of the kit (an extra) that is not installed."""


class MirrorError(LabError):
    """The room's registry cache could not be started, reached, or stopped."""


class RoomError(LabError):
    """A workshop room's hub, accounts or participants' servers are not as they should be."""


class StatsUnavailable(LabError):
    """The engine sends no resource counters for a container (no cgroups it can read)."""


class AppError(LabError):
    """A sample app did not build, start or answer (notebook 01)."""


class WheelhouseError(LabError):
    """``pip download`` could not fetch the wheels a container installs from (notebook 01)."""


class RegistryError(LabError):
    """The private registry did not start, or a push or pull through it failed (notebooks 01, 06)."""


class ComposeError(LabError):
    """No compose tool, or a compose command failed (notebook 01)."""


class FramingError(LabError, ValueError):
    """The bytes are not a multiplexed stream: a TTY stream, or a truncated one (notebook 02).

    Also a ``ValueError``, as it always was: the bytes given are not of the kind expected.
    """


class SurveyError(LabError):
    """The package index cannot be surveyed: unreachable, or without the APIs needed (notebook 05)."""


class BuildError(LabError):
    """A build, a playbook task or a project step failed (notebooks 04, 06)."""


class BundleError(LabError):
    """An offline bundle could not be written, or is not a complete, intact bundle."""


# helpers


class WaitTimeout(LabError):
    """Something the kit waited for (a server answering, a container starting) did not happen in time."""


class StreamError(LabError):
    """An engine's build, pull, push, log or event stream failed or could not be read."""


class AlternativeError(LabError):
    """One of notebook 05's alternative clients could not run its container (image, engine, socket)."""
