"""The package-index survey: which projects are about Docker, and are they alive?

In 2017 ``pip search docker`` answered the question; the index has since switched
search off. This module redoes the survey the way it can be done today:

1. list every project whose name contains a term, from the index's **JSON simple
   API** (PEP 691: ``Accept: application/vnd.pypi.simple.v1+json``);
2. fetch each project's JSON metadata (summary, latest version and its date,
   requires-python, project URLs, releases per year), concurrently but politely:
   a bounded pool, retries with back-off, a User-Agent, a progress bar, and an
   on-disk cache under the kit's cache folder;
3. keep the result as a small dated **snapshot** (gzipped JSON) that ships with the
   kit, so the notebook runs where the index cannot be reached.

The index is the one *your* pip uses: ``PIP_INDEX_URL``, else ``index-url`` in
pip's configuration files, else pip's own default. No host name is written here.

>>> from labhelpers import survey
>>> records, meta = survey.load()                 # doctest: +SKIP
>>> categorise_one("docker-compose-runner", "Run compose files")
'compose'

Introduced in ``05-more-modules``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import html
import json
import os
import re
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SurveyError
from .settings import cache_path, live_survey

#: The PEP 691 content type of the JSON simple API.
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
#: Where the shipped snapshots live (``survey-<term>-<date>.json.gz``).
DATA_DIR = Path(__file__).resolve().parent / "data"
#: Set to ``1`` to survey the live index in the notebook instead of the snapshot.
LIVE_ENV = "LABHELPERS_LIVE_SURVEY"
#: The packages the 2017 talk named; some have no "docker" in their name, so the
#: survey fetches them too (``meta["also"]``).
TALK_EXAMPLES = (
    "docker-build-tool", "whalelinter", "grocker", "aiodockerpy", "docker-map",
    "python-dockercloud", "docker-cleaner", "docker-scripts", "dockeranalyser",
    "check_docker", "dockermon", "travis2docker",
)
#: A project with a release in this many days counts as alive.
ALIVE_DAYS = 2 * 365


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True)
class Index:
    """The package index the survey asks, as pip's configuration names it.

    Attributes:
        url: the simple index URL (PEP 503/691).
        source: where the URL came from, said in words (never the host).
        json_base: the base of the per-project JSON metadata API
            (``<json_base>/<name>/json``), or None when the index has none.
        cert: the CA bundle pip is configured with (``cert``), or None.
        skipped: extra indexes of pip's configuration that the survey leaves out, and why.
    """

    url: str
    source: str
    json_base: str | None
    cert: str | None = None
    skipped: tuple[str, ...] = field(default_factory=tuple)


def _pip_settings() -> dict[str, str]:
    """pip's own view of its configuration files and PIP_* variables, merged."""
    try:
        from pip._internal.configuration import Configuration
    except ImportError:  # pip absent: read the files ourselves, as pip would
        return _parse_pip_conf()
    conf = Configuration(isolated=False)
    try:
        conf.load()
    except Exception:  # a broken pip.conf: pip itself would complain; we fall back
        return _parse_pip_conf()
    out: dict[str, str] = {}
    for key, value in conf.items():  # in pip's order: later variants override earlier
        section, _, name = key.partition(".")
        if section in ("global", "install", ":env:", "download"):
            out[name] = value
    return out


def _parse_pip_conf() -> dict[str, str]:
    import configparser

    paths = ["/etc/pip.conf", "/etc/xdg/pip/pip.conf",
             os.path.expanduser("~/.pip/pip.conf"), os.path.expanduser("~/.config/pip/pip.conf")]
    if os.environ.get("PIP_CONFIG_FILE"):
        paths.append(os.environ["PIP_CONFIG_FILE"])
    parser = configparser.RawConfigParser()
    parser.read(paths)
    out = {}
    for section in ("global", "install"):
        if parser.has_section(section):
            out.update(parser.items(section))
    for key, value in os.environ.items():
        if key.startswith("PIP_"):
            out[key[4:].lower().replace("_", "-")] = value
    return out


def pip_default_index() -> str:
    """pip's own default index URL (taken from pip, not written here).

    >>> pip_default_index().endswith("/simple")       # doctest: +SKIP
    True
    """
    try:
        from pip._internal.models.index import PyPI
    except ImportError as err:
        raise SurveyError(
            "pip is not installed here, so the kit does not know pip's default index.",
            "set PIP_INDEX_URL to the simple index URL you use",
        ) from err
    return PyPI.simple_url


def json_base_for(index_url: str) -> str | None:
    """The JSON metadata API next to a simple index, or None if the URL has no such shape.

    Indexes that follow the reference layout serve ``<root>/simple/`` and
    ``<root>/pypi/<name>/json``; other indexes (a ``file://`` folder, most proxies)
    have no JSON metadata API.

    >>> json_base_for("https://index.example/simple/")
    'https://index.example/pypi'
    >>> json_base_for("https://proxy.example/repository/pypi-all/") is None
    True
    >>> json_base_for("file:///opt/wheels/simple") is None
    True
    """
    parts = urllib.parse.urlsplit(index_url)
    path = parts.path.rstrip("/")
    if parts.scheme not in ("http", "https") or not path.endswith("/simple"):
        return None
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path[: -len("simple")] + "pypi", "", ""))


def _usable_extra(url: str) -> str | None:
    """Why an extra index is skipped (None: it is usable)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        path = urllib.request.url2pathname(parts.path)
        if not os.path.isdir(path):
            return "a file:// index that does not exist on this machine"
        return "a local file:// index (no JSON API)"
    return "an extra index (the survey asks the main index only)"


def index_from_pip() -> Index:
    """The index pip would use, with where that came from.

    ``PIP_INDEX_URL`` wins over ``index-url`` in pip's configuration files, which
    wins over pip's default. Extra indexes are reported in ``skipped``: the survey
    counts projects once, on the main index (a machine may name ``file://``
    indexes, existing or not: they have no JSON API).

    >>> index_from_pip().source                       # doctest: +SKIP
    "pip's default index"
    """
    settings = _pip_settings()
    if os.environ.get("PIP_INDEX_URL"):
        url, source = os.environ["PIP_INDEX_URL"], "PIP_INDEX_URL"
    elif settings.get("index-url"):
        url, source = settings["index-url"], "index-url in pip's configuration"
    else:
        url, source = pip_default_index(), "pip's default index"
    if settings.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        source += " (pip is configured with no-index; the survey asks it anyway)"
    extras = os.environ.get("PIP_EXTRA_INDEX_URL") or settings.get("extra-index-url", "")
    skipped = tuple(f"{_redact(u)}: {_usable_extra(u)}" for u in extras.split())
    cert = os.environ.get("PIP_CERT") or settings.get("cert") or None
    return Index(url=url.rstrip("/") + "/", source=source, json_base=json_base_for(url),
                 cert=cert, skipped=skipped)


def _redact(url: str) -> str:
    """A URL without its credentials, for messages."""
    parts = urllib.parse.urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1])
    return urllib.parse.urlunsplit(parts)


# --------------------------------------------------------------------------- fetching


def user_agent() -> str:
    """The User-Agent the survey sends: who asks, and why.

    >>> user_agent().startswith("labhelpers-survey/")
    True
    """
    from . import __version__

    return f"labhelpers-survey/{__version__} (Docker-and-Python workshop; polite, cached)"


def session(index: Index, workers: int = 12, retries: int = 4, backoff: float = 0.5):
    """A ``requests`` session with retries and back-off (urllib3's ``Retry``).

    Retries connection errors, 429 and 5xx answers ``retries`` times, waiting
    ``backoff * 2**n`` seconds (and honouring ``Retry-After``).
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


class Cache:
    """JSON files under the kit's cache folder, one per project, with an age limit.

    >>> Cache(max_age=3600).folder.endswith("survey")   # doctest: +SKIP
    True
    """

    def __init__(self, folder: str | None = None, max_age: float = 24 * 3600):
        self.folder = folder or cache_path("survey")
        self.max_age = max_age
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def _path(self, scope: str, key: str) -> str:
        digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", key)
        return os.path.join(self.folder, digest, safe + ".json")

    def get(self, scope: str, key: str):
        """The cached value, or None when absent or too old."""
        path = self._path(scope, key)
        try:
            if time.time() - os.path.getmtime(path) <= self.max_age:
                with open(path) as f:
                    value = json.load(f)
                with self._lock:
                    self.hits += 1
                return value
        except (OSError, ValueError):
            pass
        with self._lock:
            self.misses += 1
        return None

    def put(self, scope: str, key: str, value) -> None:
        path = self._path(scope, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w") as f:
            json.dump(value, f)
        os.replace(tmp, path)


def list_projects(index: Index, term: str = "docker", http=None, cache: Cache | None = None,
                  timeout: float = 120) -> tuple[list[str], str]:
    """Names of the index's projects that contain ``term``, and the format they came in.

    Asks for the JSON simple API (PEP 691). An index (or a cache in front of it) may
    still answer the project list in HTML (PEP 503): the names are then read from
    its links, and the returned format says so.

    Raises:
        SurveyError: the index is unreachable or answers neither format.
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


def _date(stamp: str | None) -> str | None:
    return stamp[:10] if stamp else None


def trim(name: str, data: dict) -> dict:
    """The few fields the survey keeps from one project's JSON metadata.

    >>> trim("x", {"info": {"name": "x", "summary": "s", "version": "1.0",
    ...   "requires_python": ">=3.8", "project_urls": None},
    ...   "releases": {"1.0": [{"upload_time_iso_8601": "2024-05-01T10:00:00Z"}],
    ...                "0.9": [{"upload_time_iso_8601": "2023-01-02T10:00:00Z"}]},
    ...   "urls": [{"upload_time_iso_8601": "2024-05-01T10:00:00Z"}]})["per_year"]
    {'2023': 1, '2024': 1}
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


def fetch_metadata(index: Index, name: str, http, cache: Cache | None = None,
                   timeout: float = 30) -> dict:
    """One project's trimmed metadata; failures give a record with ``missing`` set.

    A failing fetch is retried by the session (with back-off); when it still fails,
    the record says why instead of stopping the survey.
    """
    if cache is not None and (hit := cache.get(index.url, name)) is not None:
        return hit
    url = f"{index.json_base}/{urllib.parse.quote(name)}/json"
    try:
        resp = http.get(url, timeout=timeout)
    except Exception as err:
        return _missing(name, f"{type(err).__name__}")
    if resp.status_code != 200:
        return _missing(name, f"HTTP {resp.status_code}")
    try:
        record = trim(name, resp.json())
    except ValueError:
        return _missing(name, "not JSON")
    if cache is not None:
        cache.put(index.url, name, record)
    return record


def _normal(name: str) -> str:
    """PEP 503 normalised name: ``Check_Docker`` → ``check-docker``.

    >>> _normal("Check_Docker")
    'check-docker'
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def scrub(record: dict, host: str | None) -> dict:
    """The record without links to the index itself, its old names or its file hosts.

    A URL goes when its host shares a name with the index's host (``pypi`` in
    ``pypi.example`` and in ``pypi.python.example``): the kit names no registry host.

    >>> scrub({"urls": {"Home": "https://x.example/a", "Old": "https://idx.old.example/p/a"},
    ...        "summary": "a"}, "idx.example")["urls"]
    {'Home': 'https://x.example/a'}
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


def _missing(name: str, why: str) -> dict:
    return {"name": name, "summary": "", "version": None, "released": None, "first_release": None,
            "requires_python": None, "urls": {}, "per_year": {}, "missing": why}


def survey(term: str = "docker", *, index: Index | None = None, limit: int | None = None,
           workers: int = 12, cache: Cache | None = None, progress: bool = True,
           http=None, also=TALK_EXAMPLES) -> tuple[list[dict], dict]:
    """Survey the live index: list the projects whose name holds ``term``, fetch their metadata.

    Args:
        term: the part of the name to look for (case-insensitive).
        index: the index (default: :func:`index_from_pip`).
        limit: survey only the first ``limit`` names (tests, quick looks).
        workers: requests in flight at once; keep it small, the index is shared.
        cache: an on-disk :class:`Cache` (default: one under the kit's cache folder).
        progress: show a tqdm progress bar.
        also: more names to fetch whatever their name (the talk's examples);
            their records go to ``meta["also"]``.

    Returns:
        ``(records, meta)``: one dict per project; ``meta`` says when, how, how long.

    Raises:
        SurveyError: the index is unreachable, or has no JSON metadata API.

    >>> records, meta = survey(limit=5)               # doctest: +SKIP
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
    listed = {_normal(n) for n in names}
    extra = [n for n in also if _normal(n) not in listed]
    records = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(fetch_metadata, index, n, http, cache) for n in names + extra]
        bar = tqdm(as_completed(futures), total=len(futures), desc=f"metadata ({workers} at once)",
                   unit="project", disable=not progress)
        for fut in bar:
            records.append(fut.result())
    host = urllib.parse.urlsplit(index.url).hostname
    records = sorted((scrub(r, host) for r in records), key=lambda r: r["name"].lower())
    also_records = [r for r in records if _normal(r["name"]) not in listed]
    records = [r for r in records if _normal(r["name"]) in listed]
    meta = {
        "term": term, "taken": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "index": index.source, "list_format": list_format, "projects": len(records),
        "missing": sum(1 for r in records if r["missing"]), "workers": workers,
        "seconds": round(time.monotonic() - started, 1),
        "cache_hits": cache.hits, "cache_misses": cache.misses, "also": also_records,
    }
    return records, meta


# --------------------------------------------------------------------------- snapshots


def save_snapshot(records: list[dict], meta: dict, folder: Path | str = DATA_DIR) -> Path:
    """Write ``survey-<term>-<date>.json.gz`` and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"survey-{meta['term']}-{meta['taken'][:10]}.json.gz"
    body = json.dumps({"meta": meta, "records": records}, separators=(",", ":"), sort_keys=True)
    with gzip.GzipFile(path, "wb", mtime=0) as f:  # mtime=0: same records, same bytes
        f.write(body.encode())
    return path


def latest_snapshot(term: str = "docker", folder: Path | str = DATA_DIR) -> Path:
    """The newest shipped snapshot for ``term``."""
    found = sorted(Path(folder).glob(f"survey-{term}-*.json.gz"))
    if not found:
        raise SurveyError(f"No survey snapshot for {term!r} ships with the kit.",
                          "run the live survey once: `python -m labhelpers.survey --save`")
    return found[-1]


def load_snapshot(path: Path | str | None = None, term: str = "docker") -> tuple[list[dict], dict]:
    """Read a snapshot: ``(records, meta)``."""
    path = Path(path) if path else latest_snapshot(term)
    with gzip.open(path, "rt") as f:
        data = json.load(f)
    return data["records"], data["meta"]


def load(term: str = "docker", live: bool | None = None, log=print, **kwargs) -> tuple[list[dict], dict]:
    """The survey for the notebook: the shipped snapshot, or the live index when asked.

    Live when ``live=True`` or ``LABHELPERS_LIVE_SURVEY=1``; if the live survey fails
    (no network, no JSON API), the snapshot is used and the reason said.

    >>> records, meta = load()                        # doctest: +SKIP
    Using the snapshot taken on 2026-11-25 ...
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


# --------------------------------------------------------------------------- analysis

#: The talk's groups (and two new ones), each with keywords searched, in this order,
#: in the name and summary; the first group that matches wins. Edit freely.
RULES: dict[str, list[str]] = {
    "compose": [r"compose", r"stack", r"swarm"],
    "testing": [r"pytest", r"\btest", r"fixture", r"mock"],
    "CI": [r"\bci\b", r"jenkins", r"travis", r"gitlab", r"github", r"pipeline", r"buildkite",
           r"drone", r"deploy"],
    "monitoring": [r"monitor", r"metric", r"prometheus", r"stats", r"health", r"nagios",
                   r"check_", r"alert", r"\blogs?\b", r"logging", r"watch"],
    "build tools": [r"build", r"dockerfile", r"image", r"packag", r"lint", r"wheel", r"bake",
                    r"dockeri[sz]e", r"2docker", r"generat"],
    "API clients": [r"client", r"\bapi\b", r"sdk", r"wrapper", r"binding", r"async", r"aio",
                    r"rest", r"py-?docker", r"dockerpy", r"docker-py", r"librar", r"adapter"],
    "utilities": [r"clean", r"util", r"tool", r"cli", r"manage", r"run", r"shell", r"backup",
                  r"volume", r"network", r"registry", r"dev", r"env", r"container", r"helper",
                  r"plugin", r"\bops\b", r"operations", r"tidy", r"sandbox"],
}


def categorise_one(name: str, summary: str = "", rules: dict[str, list[str]] | None = None) -> str:
    """The first category whose keywords match the name or summary (else ``"other"``).

    >>> categorise_one("pytest-docker")
    'testing'
    >>> categorise_one("docker-cleaner", "remove old containers")
    'utilities'
    >>> categorise_one("docker-cleaner", "remove old images")   # order matters: 'image' first
    'build tools'
    >>> categorise_one("dockerish", "")
    'other'
    """
    text = f"{name} {summary}".lower().replace("_", "-")
    for category, words in (rules or RULES).items():
        if any(re.search(w, text) for w in words):
            return category
    return "other"


def frame(records: list[dict], rules: dict[str, list[str]] | None = None):
    """A pandas DataFrame of the survey, one row a project, with its category.

    Columns: name, summary, version, released (datetime), first_release,
    requires_python, category, missing.
    """
    import pandas as pd

    df = pd.DataFrame(records)
    df["released"] = pd.to_datetime(df["released"])
    df["first_release"] = pd.to_datetime(df["first_release"])
    df["category"] = [categorise_one(n, s or "", rules) for n, s in zip(df["name"], df["summary"])]
    return df


def alive(df, on: dt.date | str, days: int = ALIVE_DAYS):
    """A boolean Series: a release within ``days`` before ``on`` (the snapshot's date)."""
    import pandas as pd

    return df["released"] >= pd.Timestamp(on) - pd.Timedelta(days=days)


def releases_per_year(records: list[dict]):
    """Releases (first upload of each version) per year, all surveyed projects together."""
    import pandas as pd

    counts: dict[int, int] = {}
    for r in records:
        for year, n in (r.get("per_year") or {}).items():
            counts[int(year)] = counts.get(int(year), 0) + n
    return pd.Series(counts, name="releases").sort_index().rename_axis("year")


def where_now(records: list[dict], meta: dict, names=TALK_EXAMPLES, rules=None):
    """Where the talk's examples stand today: version, last release, category, alive or not.

    >>> where_now(*load_snapshot()).loc["grocker", "today"]     # doctest: +SKIP
    'alive'
    """
    import pandas as pd

    by_name = {_normal(r["name"]): r for r in list(records) + list(meta.get("also", []))}
    rows = []
    for name in names:
        r = by_name.get(_normal(name))
        if r is None or r["missing"] or not r["released"]:
            rows.append({"name": name, "today": "gone from the index"})
            continue
        recent = pd.Timestamp(r["released"]) >= pd.Timestamp(meta["taken"][:10]) - pd.Timedelta(days=ALIVE_DAYS)
        rows.append({"name": name, "version": r["version"], "last release": r["released"],
                     "category": categorise_one(r["name"], r["summary"], rules),
                     "today": "alive" if recent else "abandoned"})
    return pd.DataFrame(rows).set_index("name").fillna("")


def main(argv=None) -> int:
    """``python -m labhelpers.survey [--save] [--limit N] [--workers N]``: run the live survey."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--term", default="docker")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--save", action="store_true", help="write a dated snapshot into the kit")
    parser.add_argument("--no-cache", action="store_true", help="fetch everything afresh")
    args = parser.parse_args(argv)
    cache = Cache(max_age=0 if args.no_cache else 24 * 3600)
    try:
        records, meta = survey(args.term, limit=args.limit, workers=args.workers, cache=cache)
    except SurveyError as err:
        print(err)
        return 1
    print(json.dumps(meta, indent=2))
    if args.save:
        path = save_snapshot(records, meta)
        print(f"snapshot: {path.name} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
