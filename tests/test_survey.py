"""The package-index survey: against a small index served on the loopback, and the live one.

The fake index speaks the same protocols as the real one (PEP 691 JSON or PEP 503 HTML
for the project list, ``/pypi/<name>/json`` for metadata), so the survey's own HTTP,
retry, cache and snapshot code runs for real. One test asks the live index and skips
where it cannot be reached.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from labhelpers import survey
from labhelpers.checks import nb05

PROJECTS = {
    "docker-mon": {"summary": "Monitor your containers", "versions": {"0.1": "2019-04-01", "1.0": "2026-03-02"}},
    "pytest-docker-x": {"summary": "Fixtures for tests", "versions": {"2.0": "2025-06-01"}},
    "dockerfile-build": {"summary": "Build images", "versions": {}},
    "broken-docker": {"summary": "", "versions": {"1": "2020-01-01"}},
    "unrelated": {"summary": "not in the survey", "versions": {"1": "2020-01-01"}},
}


class FakeIndex:
    """A tiny index on 127.0.0.1: counts requests, can fail, can ignore Accept."""

    def __init__(self, html_only=False, broken=("broken-docker",)):
        self.hits: dict[str, int] = {}
        self.html_only = html_only
        self.broken = set(broken)
        self.agents: set[str] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = urllib.parse.unquote(self.path)
                fake.hits[path] = fake.hits.get(path, 0) + 1
                fake.agents.add(self.headers.get("User-Agent", ""))
                if path == "/simple/":
                    if not fake.html_only and survey.SIMPLE_JSON in self.headers.get("Accept", ""):
                        body = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in PROJECTS]}
                        return self._send(200, survey.SIMPLE_JSON, json.dumps(body))
                    links = "".join(f'<a href="/simple/{n}/">{n}</a>\n' for n in PROJECTS)
                    return self._send(200, "text/html", f"<html><body>{links}</body></html>")
                parts = path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json" and parts[1] in PROJECTS:
                    if parts[1] in fake.broken:
                        return self._send(500, "text/plain", "boom")
                    p = PROJECTS[parts[1]]
                    releases = {v: [{"upload_time_iso_8601": d + "T10:00:00Z"}] for v, d in p["versions"].items()}
                    latest = max(p["versions"], key=p["versions"].get) if p["versions"] else None
                    body = {"info": {"name": parts[1], "summary": p["summary"], "version": latest,
                                     "requires_python": ">=3.9", "project_urls": {"Source": "http://127.0.0.1/x"}},
                            "releases": releases, "urls": releases.get(latest, [])}
                    return self._send(200, "application/json", json.dumps(body))
                self._send(404, "text/plain", "not found")

            def _send(self, status, ctype, text):
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        url = f"http://127.0.0.1:{self.server.server_port}/simple/"
        self.index = survey.Index(url=url, source="a test index", json_base=survey.json_base_for(url))
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def metadata_hits(self):
        return sum(n for p, n in self.hits.items() if p.startswith("/pypi/"))


def _run(fake, tmp_path, **kwargs):
    kwargs.setdefault("also", ())
    cache = survey.Cache(folder=str(tmp_path / "cache"))
    http = survey.session(fake.index, workers=4, retries=2, backoff=0.01)
    records, meta = survey.survey("docker", index=fake.index, cache=cache, workers=4,
                                  progress=False, http=http, **kwargs)
    return records, meta, cache


def test_survey_lists_fetches_and_trims(tmp_path):
    with FakeIndex() as fake:
        records, meta, _ = _run(fake, tmp_path)
    by_name = {r["name"]: r for r in records}
    assert set(by_name) == {"docker-mon", "pytest-docker-x", "dockerfile-build", "broken-docker"}
    mon = by_name["docker-mon"]
    assert (mon["version"], mon["released"], mon["first_release"]) == ("1.0", "2026-03-02", "2019-04-01")
    assert mon["per_year"] == {"2019": 1, "2026": 1}
    assert by_name["dockerfile-build"]["released"] is None and by_name["dockerfile-build"]["missing"] is None
    assert meta["list_format"] == "JSON (PEP 691)" and meta["projects"] == 4 and meta["missing"] == 1
    assert fake.agents == {survey.user_agent()}


def test_also_fetches_named_projects_apart(tmp_path):
    with FakeIndex() as fake:
        records, meta, _ = _run(fake, tmp_path, also=("unrelated", "Docker_Mon"))
    assert "unrelated" not in {r["name"] for r in records} and meta["projects"] == 4
    assert [r["name"] for r in meta["also"]] == ["unrelated"]  # docker-mon is listed already


def test_failing_fetch_is_retried_then_recorded_missing(tmp_path):
    with FakeIndex() as fake:
        records, meta, _ = _run(fake, tmp_path)
    broken = next(r for r in records if r["name"] == "broken-docker")
    assert broken["missing"] == "HTTP 500"
    assert fake.hits["/pypi/broken-docker/json"] == 3  # the first try and two retries
    assert fake.hits["/pypi/docker-mon/json"] == 1


def test_cache_miss_then_hit(tmp_path):
    with FakeIndex() as fake:
        _, meta1, _ = _run(fake, tmp_path)
        fetched = fake.metadata_hits()
        _, meta2, cache = _run(fake, tmp_path)
        assert (meta1["cache_hits"], meta1["cache_misses"]) == (0, 5)  # the list and 4 projects
        # second run: the list and 3 projects from the cache; the failed one is asked again
        assert (meta2["cache_hits"], meta2["cache_misses"]) == (4, 1)
        assert fake.metadata_hits() == fetched + 3
        assert fake.hits["/simple/"] == 1


def test_cache_expires(tmp_path):
    cache = survey.Cache(folder=str(tmp_path), max_age=3600)
    cache.put("scope", "a/b name", {"x": 1})
    assert cache.get("scope", "a/b name") == {"x": 1}
    assert cache.get("other scope", "a/b name") is None
    cache.max_age = -1
    assert cache.get("scope", "a/b name") is None
    assert (cache.hits, cache.misses) == (1, 2)


def test_html_project_list_is_read_and_said(tmp_path):
    with FakeIndex(html_only=True) as fake:
        records, meta, _ = _run(fake, tmp_path, limit=2)
    assert meta["list_format"].startswith("HTML (PEP 503)")
    assert [r["name"] for r in records] == ["broken-docker", "docker-mon"]


def test_unreachable_index_says_so(tmp_path):
    with FakeIndex() as fake:
        index = fake.index
    with pytest.raises(survey.SurveyError, match="cannot be reached"):
        survey.survey(index=index, cache=survey.Cache(folder=str(tmp_path)), progress=False,
                      http=survey.session(index, retries=0))


def test_index_without_json_api_says_so(tmp_path):
    index = survey.Index(url="file:///nowhere/simple/", source="a file index", json_base=None)
    with pytest.raises(survey.SurveyError, match="no JSON metadata API"):
        survey.survey(index=index, cache=survey.Cache(folder=str(tmp_path)), progress=False)


def test_index_from_env_wins(monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/mirror/simple")
    index = survey.index_from_pip()
    assert (index.url, index.source) == ("http://127.0.0.1:9/mirror/simple/", "PIP_INDEX_URL")
    assert index.json_base == "http://127.0.0.1:9/mirror/pypi"


def test_index_from_pip_conf_and_missing_file_indexes(monkeypatch, tmp_path):
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = http://127.0.0.1:9/repo/\n"
                    f"extra-index-url = file://{tmp_path}/absent/simple http://127.0.0.1:9/other/simple\n")
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    index = survey.index_from_pip()
    assert index.source == "index-url in pip's configuration"
    assert index.json_base is None  # not the reference layout: no JSON metadata API
    assert "does not exist" in index.skipped[0] and "main index only" in index.skipped[1]


def test_default_is_pips_own(monkeypatch):
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # pip then reads no configuration file
    from pip._internal.models.index import PyPI

    index = survey.index_from_pip()
    assert index.source == "pip's default index"
    assert index.url == PyPI.simple_url + "/" and index.json_base is not None


@pytest.mark.parametrize("name, summary, category", [
    ("docker-compose-runner", "", "compose"),
    ("pytest-docker-tools", "Docker fixtures", "testing"),
    ("travis2docker", "", "CI"),
    ("dockermon", "Docker event monitor", "monitoring"),
    ("check_docker", "Nagios plugin", "monitoring"),
    ("docker-build-tool", "", "build tools"),
    ("aiodockerpy", "", "API clients"),
    ("docker-cleaner", "", "utilities"),
    ("dockerish", "", "other"),
])
def test_categories(name, summary, category):
    assert survey.categorise_one(name, summary) == category


def test_rules_are_editable():
    rules = {"mine": [r"ish\b"], **survey.RULES}
    assert survey.categorise_one("dockerish", "", rules) == "mine"
    assert survey.categorise_one("docker-mon", "monitor", rules) == "monitoring"


def test_snapshot_round_trip(tmp_path):
    records = [{"name": "a-docker", "summary": "é", "version": "1", "released": "2026-01-01",
                "first_release": "2026-01-01", "requires_python": None, "urls": {}, "per_year": {"2026": 1},
                "missing": None}]
    meta = {"term": "docker", "taken": "2026-11-25T10:00:00Z", "projects": 1}
    path = survey.save_snapshot(records, meta, tmp_path)
    assert path.name == "survey-docker-2026-11-25.json.gz"
    first = path.read_bytes()
    assert survey.load_snapshot(path) == (records, meta)
    assert survey.latest_snapshot(folder=tmp_path) == path
    survey.save_snapshot(records, meta, tmp_path)
    assert path.read_bytes() == first  # reproducible bytes: no spurious diffs


def test_shipped_snapshot_is_small_complete_and_names_no_host():
    path = survey.latest_snapshot()
    assert path.stat().st_size < 200_000
    records, meta = survey.load_snapshot(path)
    assert meta["projects"] == len(records) > 500
    assert all("docker" in r["name"].lower() for r in records)
    assert sum(1 for r in records if r["missing"]) < len(records) / 10
    host = urllib.parse.urlsplit(survey.pip_default_index()).hostname
    text = gzip.decompress(path.read_bytes()).decode()
    named = host in text or any(set(host.split(".")[:-1]) & set((urllib.parse.urlsplit(u).hostname or "").split("."))
                                for r in records for u in r["urls"].values())
    assert not named, "the snapshot names the index's host"


def test_load_falls_back_to_snapshot(monkeypatch, tmp_path):
    with FakeIndex() as fake:
        url = fake.index.url
    monkeypatch.setenv("PIP_INDEX_URL", url)  # a closed port by now
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    said = []
    records, meta = survey.load(live=True, log=said.append, progress=False)
    assert meta["source"] == "snapshot" and len(records) == meta["projects"]
    assert said[0].startswith("The live survey failed") and said[1].startswith("Using the snapshot")


def test_frame_alive_and_releases_per_year():
    records, meta = survey.load_snapshot()
    df = survey.frame(records)
    assert set(df["category"]) <= set(survey.RULES) | {"other"}
    alive = survey.alive(df, meta["taken"][:10])
    assert 0 < alive.sum() < len(df)
    per_year = survey.releases_per_year(records)
    assert per_year.sum() == sum(sum(r["per_year"].values()) for r in records)


def test_where_now_covers_every_example():
    records, meta = survey.load_snapshot()
    table = survey.where_now(records, meta)
    assert list(table.index) == list(survey.TALK_EXAMPLES)
    assert set(table["today"]) <= {"alive", "abandoned", "gone from the index"}
    assert table.loc["grocker", "category"] == "build tools"


def test_checker_recomputes_from_the_survey():
    records, meta = survey.load_snapshot()
    df = survey.frame(records)
    year = int(meta["taken"][:4])
    expected = int(((df["category"] == "monitoring") & (df["released"].dt.year == year)).sum())
    assert nb05.monitoring_released_in(expected).passed
    assert nb05.monitoring_released_in(expected + 1).missing[0].startswith(f"{expected + 1} is too many")
    assert not nb05.monitoring_released_in("many").passed
    assert nb05.monitoring_released_in(0, records=records[:0], year=year).passed


@pytest.mark.slow
def test_live_survey_on_a_few_names(tmp_path):
    index = survey.index_from_pip()
    http = survey.session(index, retries=1)
    try:
        http.head(index.url, timeout=10)
    except Exception as err:
        pytest.skip(f"the package index cannot be reached here ({type(err).__name__})")
    records, meta = survey.survey(index=index, limit=3, workers=3, progress=False, also=(),
                                  cache=survey.Cache(folder=str(tmp_path)), http=http)
    assert len(records) == 3 and all("docker" in r["name"].lower() for r in records)
    assert any(r["version"] for r in records)
    assert meta["cache_misses"] == 4


def test_the_cli_surveys_and_saves(tmp_path, monkeypatch, capsys):
    from labhelpers import cli

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(survey.snapshots, "DATA_DIR", tmp_path / "data")  # not the kit's own
    with FakeIndex(broken=()) as fake:
        monkeypatch.setenv("PIP_INDEX_URL", fake.index.url)
        assert cli.main(["survey", "--limit", "2", "--workers", "2", "--save"]) == 0
    out = capsys.readouterr().out
    assert '"projects": 2' in out and "snapshot: survey-docker-" in out
    (saved,) = (tmp_path / "data").glob("survey-docker-*.json.gz")
    records, meta = survey.load_snapshot(saved)
    assert [r["name"] for r in records] == ["broken-docker", "docker-mon"]
