"""The survey analysed with pandas: categories, who is alive, releases per year.

>>> categorise_one("docker-compose-runner", "Run compose files")
'compose'

Introduced in ``05-more-modules``.
"""

from __future__ import annotations

import datetime as dt
import re

from .records import TALK_EXAMPLES, normalise

#: A project with a release in this many days counts as alive.
ALIVE_DAYS = 2 * 365

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

    Args:
        name: the project's name.
        summary: its one-line summary.
        rules: category → regular expressions, tried in order (default: :data:`RULES`,
            as the learner edited it).

    Returns:
        The category's name, or ``"other"``.

    >>> categorise_one("pytest-docker")
    'testing'
    >>> categorise_one("docker-cleaner", "remove old containers")
    'utilities'
    >>> categorise_one("docker-cleaner", "remove old images")   # order matters: 'image' first
    'build tools'
    >>> categorise_one("dockerish", "")
    'other'

    Introduced in ``05-more-modules``.
    """
    text = f"{name} {summary}".lower().replace("_", "-")
    for category, words in (rules or RULES).items():
        if any(re.search(w, text) for w in words):
            return category
    return "other"


def frame(records: list[dict], rules: dict[str, list[str]] | None = None):
    """A pandas DataFrame of the survey, one row a project, with its category.

    Args:
        records: the survey's records.
        rules: as for :func:`categorise_one`.

    Returns:
        A DataFrame with the columns name, summary, version, released (datetime),
        first_release (datetime), requires_python, urls, per_year, missing, category.

    >>> frame([{"name": "pytest-docker", "summary": "", "released": "2024-05-01",
    ...         "first_release": None}])["category"].tolist()
    ['testing']

    Introduced in ``05-more-modules``.
    """
    import pandas as pd

    df = pd.DataFrame(records)
    df["released"] = pd.to_datetime(df["released"])
    df["first_release"] = pd.to_datetime(df["first_release"])
    df["category"] = [categorise_one(n, s or "", rules) for n, s in zip(df["name"], df["summary"])]
    return df


def alive(df, on: dt.date | str, days: int = ALIVE_DAYS):
    """Which projects are alive: a release within ``days`` before ``on``.

    Args:
        df: a :func:`frame`.
        on: the day to count back from (the snapshot's date).
        days: how far back a release still counts.

    Returns:
        A boolean Series, one value per row of ``df``.

    >>> df = frame([{"name": "a", "summary": "", "released": "2026-01-01", "first_release": None},
    ...             {"name": "b", "summary": "", "released": "2019-01-01", "first_release": None}])
    >>> alive(df, "2026-11-25").tolist()
    [True, False]

    Introduced in ``05-more-modules``.
    """
    import pandas as pd

    return df["released"] >= pd.Timestamp(on) - pd.Timedelta(days=days)


def releases_per_year(records: list[dict]):
    """Releases (first upload of each version) per year, all surveyed projects together.

    Args:
        records: the survey's records (their ``per_year``).

    Returns:
        A Series ``releases`` indexed by ``year``, in order.

    >>> releases_per_year([{"per_year": {"2024": 2}}, {"per_year": {"2023": 1, "2024": 1}}]).to_dict()
    {2023: 1, 2024: 3}

    Introduced in ``05-more-modules``.
    """
    import pandas as pd

    counts: dict[int, int] = {}
    for r in records:
        for year, n in (r.get("per_year") or {}).items():
            counts[int(year)] = counts.get(int(year), 0) + n
    return pd.Series(counts, name="releases").sort_index().rename_axis("year")


def where_now(records: list[dict], meta: dict, names=TALK_EXAMPLES, rules=None):
    """Where the talk's examples stand today: version, last release, category, alive or not.

    Args:
        records: the survey's records.
        meta: its meta (``taken``, and ``also``: the examples without "docker" in their name).
        names: the projects to show (default: the talk's examples).
        rules: as for :func:`categorise_one`.

    Returns:
        A DataFrame indexed by name: version, last release, category, and ``today``
        (``alive``, ``abandoned`` or ``gone from the index``).

    >>> where_now([], {"taken": "2026-11-25"}, names=["nothing"]).loc["nothing", "today"]
    'gone from the index'

    Introduced in ``05-more-modules``.
    """
    import pandas as pd

    by_name = {normalise(r["name"]): r for r in list(records) + list(meta.get("also", []))}
    rows = []
    for name in names:
        r = by_name.get(normalise(name))
        if r is None or r["missing"] or not r["released"]:
            rows.append({"name": name, "today": "gone from the index"})
            continue
        recent = pd.Timestamp(r["released"]) >= pd.Timestamp(meta["taken"][:10]) - pd.Timedelta(days=ALIVE_DAYS)
        rows.append({"name": name, "version": r["version"], "last release": r["released"],
                     "category": categorise_one(r["name"], r["summary"], rules),
                     "today": "alive" if recent else "abandoned"})
    return pd.DataFrame(rows).set_index("name").fillna("")
