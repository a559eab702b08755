"""One project's record: the few fields the survey keeps from the index's JSON metadata.

Pure functions on dicts: no network, no files.

>>> normalise("Check_Docker")
'check-docker'

Introduced in ``05-more-modules``.
"""

from __future__ import annotations

import re
import urllib.parse

#: The packages the 2017 talk named; some have no "docker" in their name, so the
#: survey fetches them too (``meta["also"]``).
TALK_EXAMPLES = (
    "docker-build-tool", "whalelinter", "grocker", "aiodockerpy", "docker-map",
    "python-dockercloud", "docker-cleaner", "docker-scripts", "dockeranalyser",
    "check_docker", "dockermon", "travis2docker",
)


def normalise(name: str) -> str:
    """PEP 503 normalised name, to compare names however they are written.

    Args:
        name: a project's name as written anywhere.

    Returns:
        The name lower-cased, each run of ``-_.`` made one ``-``.

    >>> normalise("Check_Docker")
    'check-docker'

    Introduced in ``05-more-modules``.
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def _date(stamp: str | None) -> str | None:
    return stamp[:10] if stamp else None


def trim(name: str, data: dict) -> dict:
    """The few fields the survey keeps from one project's JSON metadata.

    Args:
        name: the project's name (used when the metadata has none).
        data: the index's answer to ``<json_base>/<name>/json``.

    Returns:
        A record: name, summary, version, released, first_release, requires_python,
        urls (four at most), per_year (first uploads per year), missing (None).

    >>> trim("x", {"info": {"name": "x", "summary": "s", "version": "1.0",
    ...   "requires_python": ">=3.8", "project_urls": None},
    ...   "releases": {"1.0": [{"upload_time_iso_8601": "2024-05-01T10:00:00Z"}],
    ...                "0.9": [{"upload_time_iso_8601": "2023-01-02T10:00:00Z"}]},
    ...   "urls": [{"upload_time_iso_8601": "2024-05-01T10:00:00Z"}]})["per_year"]
    {'2023': 1, '2024': 1}

    Introduced in ``05-more-modules``.
    """
    info = data.get("info") or {}
    firsts = []
    for files in (data.get("releases") or {}).values():
        stamps = [f.get("upload_time_iso_8601") or f.get("upload_time") for f in files]
        stamps = [s for s in stamps if s]
        if stamps:
            firsts.append(min(stamps))
    latest = [f.get("upload_time_iso_8601") or f.get("upload_time") for f in data.get("urls") or []]
    latest = [s for s in latest if s]
    per_year: dict[str, int] = {}
    for stamp in sorted(firsts):
        per_year[stamp[:4]] = per_year.get(stamp[:4], 0) + 1
    urls = info.get("project_urls") or {}
    if not urls and info.get("home_page"):
        urls = {"Homepage": info["home_page"]}
    return {
        "name": info.get("name") or name,
        "summary": (info.get("summary") or "").strip()[:200],
        "version": info.get("version"),
        "released": _date(min(latest) if latest else (max(firsts) if firsts else None)),
        "first_release": _date(min(firsts) if firsts else None),
        "requires_python": info.get("requires_python") or None,
        "urls": dict(list(urls.items())[:4]),
        "per_year": per_year,
        "missing": None,
    }


def missing(name: str, why: str) -> dict:
    """The record of a project whose metadata could not be had.

    Args:
        name: the project's name.
        why: what failed, in a few words (``HTTP 500``, ``not JSON``).

    Returns:
        A record of the same shape as :func:`trim`'s, empty, with ``missing`` set.

    >>> missing("gone", "HTTP 404")["missing"]
    'HTTP 404'

    Introduced in ``05-more-modules``.
    """
    return {"name": name, "summary": "", "version": None, "released": None, "first_release": None,
            "requires_python": None, "urls": {}, "per_year": {}, "missing": why}


def scrub(record: dict, host: str | None) -> dict:
    """The record without links to the index itself, its old names or its file hosts.

    A URL goes when its host shares a name with the index's host (``pypi`` in
    ``pypi.example`` and in ``pypi.python.example``): the kit names no registry host.

    Args:
        record: a record from :func:`trim`.
        host: the index's host name (None: the record is kept as it is).

    Returns:
        A new record; links in the summary become ``(a link to the index)``.

    >>> scrub({"urls": {"Home": "https://x.example/a", "Old": "https://idx.old.example/p/a"},
    ...        "summary": "a"}, "idx.example")["urls"]
    {'Home': 'https://x.example/a'}

    Introduced in ``05-more-modules``.
    """
    if not host:
        return record
    names = set(host.lower().split(".")[:-1]) - {"www"}

    def ours(url: str) -> bool:
        other = (urllib.parse.urlsplit(url or "").hostname or "").split(".")
        return bool(names.intersection(other))

    urls = {k: v for k, v in (record.get("urls") or {}).items() if not ours(v)}
    summary = record.get("summary") or ""
    for word in summary.split():
        if "://" in word and ours(word):
            summary = summary.replace(word, "(a link to the index)")
    return {**record, "urls": urls, "summary": summary}
