"""The live survey: the index's project list and each project's metadata, over HTTP.

1. list every project whose name contains a term, from the index's **JSON simple
   API** (PEP 691: ``Accept: application/vnd.pypi.simple.v1+json``);
2. fetch each project's JSON metadata concurrently but politely: a bounded pool,
   retries with back-off, a User-Agent, a progress bar, and an on-disk cache.

>>> user_agent().startswith("labhelpers-survey/")
True

Introduced in ``05-more-modules``.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor, as_completed

from .cache import Cache
from ..errors import SurveyError
from .index import Index, index_from_pip
from .records import TALK_EXAMPLES, missing, normalise, scrub, trim

#: The PEP 691 content type of the JSON simple API.
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def user_agent() -> str:
    """The User-Agent the survey sends: who asks, and why.

    Returns:
        ``labhelpers-survey/<version> (...)``.

    >>> user_agent().startswith("labhelpers-survey/")
    True

    Introduced in ``05-more-modules``.
    """
    from .. import __version__

    return f"labhelpers-survey/{__version__} (Docker-and-Python workshop; polite, cached)"


def session(index: Index, workers: int = 12, retries: int = 4, backoff: float = 0.5):
    """A ``requests`` session with retries and back-off (urllib3's ``Retry``).

    Retries connection errors, 429 and 5xx answers ``retries`` times, waiting
    ``backoff * 2**n`` seconds (and honouring ``Retry-After``).

    Args:
        index: the index asked (its ``cert``, when pip has one, is trusted).
        workers: connections kept per host (as many as requests in flight).
        retries: tries after the first, for each request.
        backoff: the first wait between tries, in seconds; it doubles each time.

    Returns:
        A ``requests.Session`` sending :func:`user_agent`.

    >>> session(Index("https://index.example/simple/", "a test", None)).headers["User-Agent"][:18]
    'labhelpers-survey/'

    Introduced in ``05-more-modules``.
    """
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                  backoff_factor=backoff, status_forcelist=(429, 500, 502, 503, 504),
                  allowed_methods=("GET",), respect_retry_after_header=True,
                  raise_on_status=False)
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=workers, pool_maxsize=workers)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = user_agent()
    if index.cert and os.path.exists(index.cert):
        s.verify = index.cert
    return s


def list_projects(index: Index, term: str = "docker", http=None, cache: Cache | None = None,
                  timeout: float = 120) -> tuple[list[str], str]:
    """Names of the index's projects that contain ``term``, and the format they came in.

    Asks for the JSON simple API (PEP 691). An index (or a cache in front of it) may
    still answer the project list in HTML (PEP 503): the names are then read from
    its links, and the returned format says so.

    Args:
        index: the index asked.
        term: the part of the name to look for (case-insensitive).
        http: a session (default: a new :func:`session`).
        cache: where the list is kept between runs (default: not kept).
        timeout: seconds for the index to answer.

    Returns:
        ``(names, format)``: the names sorted case-insensitively, the format in words.

    Raises:
        SurveyError: the index is unreachable or answers neither format.

    >>> list_projects(Index("http://127.0.0.1:9/simple/", "nowhere", None))  # doctest: +SKIP
    Traceback (most recent call last):
    labhelpers.errors.SurveyError: The package index (nowhere) cannot be reached: ConnectionError. ...

    (skipped: it would wait for retries; ``tests/test_survey.py`` serves a small index instead.)

    Introduced in ``05-more-modules``.
    """
    key = f"projects-{term}"
    if cache is not None and (hit := cache.get(index.url, key)) is not None:
        return hit["names"], hit["format"]
    http = http or session(index)
    try:
        resp = http.get(index.url, headers={"Accept": f"{SIMPLE_JSON}, text/html;q=0.01"},
                        timeout=timeout)
    except Exception as err:
        raise SurveyError(
            f"The package index ({index.source}) cannot be reached: {type(err).__name__}.",
            "check the network (or PIP_INDEX_URL); the notebook falls back to the shipped snapshot",
        ) from err
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
    if resp.status_code == 200 and ctype == SIMPLE_JSON:
        every, fmt = (p["name"] for p in resp.json()["projects"]), "JSON (PEP 691)"
    elif resp.status_code == 200 and ctype == "text/html":
        every = (html.unescape(m) for m in re.findall(r"<a [^>]*>([^<]+)</a>", resp.text))
        fmt = "HTML (PEP 503): the index did not negotiate JSON for its project list"
    else:
        raise SurveyError(
            f"The package index ({index.source}) answered HTTP {resp.status_code} with "
            f"{ctype or 'no content type'}, not a simple index (PEP 691 or 503).",
            "point PIP_INDEX_URL at a simple index, or use the shipped snapshot",
        )
    term_l = term.lower()
    names = sorted({n.strip() for n in every if term_l in n.lower()}, key=str.lower)
    if cache is not None:
        cache.put(index.url, key, {"names": names, "format": fmt})
    return names, fmt


def fetch_metadata(index: Index, name: str, http, cache: Cache | None = None,
                   timeout: float = 30) -> dict:
    """One project's trimmed metadata; failures give a record with ``missing`` set.

    A failing fetch is retried by the session (with back-off); when it still fails,
    the record says why instead of stopping the survey.

    Args:
        index: the index asked (its ``json_base`` must be set).
        name: the project.
        http: a :func:`session`.
        cache: where records are kept between runs (default: not kept).
        timeout: seconds for each answer.

    Returns:
        The record (:func:`~labhelpers.survey.records.trim`), or one from
        :func:`~labhelpers.survey.records.missing` saying what failed.

    >>> import requests
    >>> fetch_metadata(Index("x", "a test", "http://127.0.0.1:9/pypi"), "docker",
    ...                requests.Session(), timeout=2)["missing"]
    'ConnectionError'

    Introduced in ``05-more-modules``.
    """
    if cache is not None and (hit := cache.get(index.url, name)) is not None:
        return hit
    url = f"{index.json_base}/{urllib.parse.quote(name)}/json"
    try:
        resp = http.get(url, timeout=timeout)
    except Exception as err:
        return missing(name, f"{type(err).__name__}")
    if resp.status_code != 200:
        return missing(name, f"HTTP {resp.status_code}")
    try:
        record = trim(name, resp.json())
    except ValueError:
        return missing(name, "not JSON")
    if cache is not None:
        cache.put(index.url, name, record)
    return record


def survey(term: str = "docker", *, index: Index | None = None, limit: int | None = None,
           workers: int = 12, cache: Cache | None = None, progress: bool = True,
           http=None, also=TALK_EXAMPLES) -> tuple[list[dict], dict]:
    """Survey the live index: list the projects whose name holds ``term``, fetch their metadata.

    Args:
        term: the part of the name to look for (case-insensitive).
        index: the index (default: :func:`~labhelpers.survey.index.index_from_pip`).
        limit: survey only the first ``limit`` names (tests, quick looks).
        workers: requests in flight at once; keep it small, the index is shared.
        cache: an on-disk :class:`~labhelpers.survey.cache.Cache` (default: one under
            the kit's cache folder).
        progress: show a tqdm progress bar.
        http: a :func:`session` (default: a new one with ``workers`` connections).
        also: more names to fetch whatever their name (the talk's examples);
            their records go to ``meta["also"]``.

    Returns:
        ``(records, meta)``: one dict per project; ``meta`` says when, how, how long.

    Raises:
        SurveyError: the index is unreachable, or has no JSON metadata API.

    >>> records, meta = survey(limit=5)               # doctest: +SKIP

    (skipped: it asks the live index, which the tests may not reach.)

    Introduced in ``05-more-modules``.
    """
    from tqdm.auto import tqdm

    index = index or index_from_pip()
    if index.json_base is None:
        raise SurveyError(
            f"The configured index ({index.source}) has no JSON metadata API "
            "(<root>/pypi/<name>/json): the survey needs it for summaries and release dates.",
            "set PIP_INDEX_URL to an index with the reference layout (<root>/simple/), "
            "or use the shipped snapshot (`survey.load()`)",
        )
    cache = cache if cache is not None else Cache()
    started = time.monotonic()
    http = http or session(index, workers=workers)
    names, list_format = list_projects(index, term, http=http, cache=cache)
    if limit is not None:
        names = names[:limit]
    listed = {normalise(n) for n in names}
    extra = [n for n in also if normalise(n) not in listed]
    records = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(fetch_metadata, index, n, http, cache) for n in names + extra]
        bar = tqdm(as_completed(futures), total=len(futures), desc=f"metadata ({workers} at once)",
                   unit="project", disable=not progress)
        for fut in bar:
            records.append(fut.result())
    host = urllib.parse.urlsplit(index.url).hostname
    records = sorted((scrub(r, host) for r in records), key=lambda r: r["name"].lower())
    also_records = [r for r in records if normalise(r["name"]) not in listed]
    records = [r for r in records if normalise(r["name"]) in listed]
    meta = {
        "term": term, "taken": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "index": index.source, "list_format": list_format, "projects": len(records),
        "missing": sum(1 for r in records if r["missing"]), "workers": workers,
        "seconds": round(time.monotonic() - started, 1),
        "cache_hits": cache.hits, "cache_misses": cache.misses, "also": also_records,
    }
    return records, meta
