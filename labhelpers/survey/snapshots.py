"""Survey snapshots: a small dated gzipped JSON that ships with the kit.

The notebook reads the snapshot, so it runs where the index cannot be reached;
``LABHELPERS_LIVE_SURVEY=1`` (or ``load(live=True)``) asks the live index instead.
``python -m labhelpers survey --save`` takes a new one.

>>> records, meta = load_snapshot()
>>> meta["term"]
'docker'

Introduced in ``05-more-modules``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from ..errors import SurveyError
from ..settings import live_survey
from .fetch import survey

#: Where the shipped snapshots live (``survey-<term>-<date>.json.gz``).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: Set to ``1`` to survey the live index in the notebook instead of the snapshot.
LIVE_ENV = "LABHELPERS_LIVE_SURVEY"


def save_snapshot(records: list[dict], meta: dict, folder: Path | str | None = None) -> Path:
    """Write ``survey-<term>-<date>.json.gz`` and return its path.

    The same records give the same bytes (no time stamp in the gzip header).

    Args:
        records: the survey's records.
        meta: its meta (``term`` and ``taken`` name the file).
        folder: where to write (default: :data:`DATA_DIR`, the kit's own data folder).

    Returns:
        The file written.

    >>> import tempfile
    >>> save_snapshot([], {"term": "docker", "taken": "2026-11-25T10:00:00Z"}, tempfile.mkdtemp()).name
    'survey-docker-2026-11-25.json.gz'

    Introduced in ``05-more-modules``.
    """
    folder = Path(folder or DATA_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"survey-{meta['term']}-{meta['taken'][:10]}.json.gz"
    body = json.dumps({"meta": meta, "records": records}, separators=(",", ":"), sort_keys=True)
    with gzip.GzipFile(path, "wb", mtime=0) as f:  # mtime=0: same records, same bytes
        f.write(body.encode())
    return path


def latest_snapshot(term: str = "docker", folder: Path | str | None = None) -> Path:
    """The newest shipped snapshot for ``term``.

    Args:
        term: the term the snapshot surveyed.
        folder: where to look (default: :data:`DATA_DIR`, the kit's own data folder).

    Returns:
        The path of the newest ``survey-<term>-<date>.json.gz``.

    Raises:
        SurveyError: there is none.

    >>> latest_snapshot().name.startswith("survey-docker-")
    True

    Introduced in ``05-more-modules``.
    """
    found = sorted(Path(folder or DATA_DIR).glob(f"survey-{term}-*.json.gz"))
    if not found:
        raise SurveyError(f"No survey snapshot for {term!r} ships with the kit.",
                          "run the live survey once: `python -m labhelpers survey --save`")
    return found[-1]


def load_snapshot(path: Path | str | None = None, term: str = "docker") -> tuple[list[dict], dict]:
    """Read a snapshot.

    Args:
        path: the file (default: :func:`latest_snapshot` for ``term``).
        term: the term, when no path is given.

    Returns:
        ``(records, meta)``, as :func:`~labhelpers.survey.fetch.survey` returned them.

    Raises:
        SurveyError: no path is given and no snapshot ships for ``term``.

    >>> records, meta = load_snapshot()
    >>> meta["projects"] == len(records)
    True

    Introduced in ``05-more-modules``.
    """
    path = Path(path) if path else latest_snapshot(term)
    with gzip.open(path, "rt") as f:
        data = json.load(f)
    return data["records"], data["meta"]


def load(term: str = "docker", live: bool | None = None, log=print, **kwargs) -> tuple[list[dict], dict]:
    """The survey for the notebook: the shipped snapshot, or the live index when asked.

    Live when ``live=True`` or ``LABHELPERS_LIVE_SURVEY=1``; if the live survey fails
    (no network, no JSON API), the snapshot is used and the reason said.

    Args:
        term: the part of the name to look for.
        live: ask the live index (default: as ``LABHELPERS_LIVE_SURVEY`` says).
        log: where the one-line account goes (default: print).
        **kwargs: passed on to :func:`~labhelpers.survey.fetch.survey` when live.

    Returns:
        ``(records, meta)``; ``meta["source"]`` is ``"live"`` or ``"snapshot"``.

    Raises:
        SurveyError: no snapshot ships for ``term`` (and no live survey was made).

    >>> records, meta = load(live=False)              # doctest: +ELLIPSIS
    Using the snapshot taken on ... projects, ...); set LABHELPERS_LIVE_SURVEY=1 for a live survey.
    >>> meta["source"]
    'snapshot'

    Introduced in ``05-more-modules``.
    """
    if live is None:
        live = live_survey()
    if live:
        try:
            records, meta = survey(term, **kwargs)
            log(f"Live survey of {meta['index']}: {meta['projects']} projects in {meta['seconds']} s.")
            meta["source"] = "live"
            return records, meta
        except SurveyError as err:
            log(f"The live survey failed: {err.what}")
    records, meta = load_snapshot(term=term)
    log(f"Using the snapshot taken on {meta['taken'][:10]} ({meta['projects']} projects, "
        f"{meta['index']}); set {LIVE_ENV}=1 for a live survey.")
    meta["source"] = "snapshot"
    return records, meta
