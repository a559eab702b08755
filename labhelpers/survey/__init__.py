"""The package-index survey: which projects are about Docker, and are they alive?

In 2017 ``pip search docker`` answered the question; the index has since switched
search off. This package redoes the survey the way it can be done today, one
concern per module:

- :mod:`~labhelpers.survey.index`: which index: the one *your* pip is configured
  with (``PIP_INDEX_URL``, else ``index-url`` in pip's files, else pip's default);
- :mod:`~labhelpers.survey.fetch`: the live survey over HTTP (the JSON simple API,
  PEP 691, then each project's JSON metadata: a bounded pool, retries, a User-Agent);
- :mod:`~labhelpers.survey.cache`: the on-disk cache of what was fetched;
- :mod:`~labhelpers.survey.records`: one project's record, trimmed and scrubbed;
- :mod:`~labhelpers.survey.snapshots`: the dated snapshot that ships with the kit,
  so the notebook runs where the index cannot be reached;
- :mod:`~labhelpers.survey.analysis`: categories, alive or not, releases per year (pandas).

A new snapshot: ``python -m labhelpers survey --save``. No host name is written here.

>>> from labhelpers import survey
>>> records, meta = survey.load(live=False, log=lambda line: None)   # the shipped snapshot
>>> meta["source"]
'snapshot'
>>> survey.categorise_one("docker-compose-runner", "Run compose files")
'compose'

Introduced in ``05-more-modules``.
"""

from .analysis import ALIVE_DAYS, RULES, alive, categorise_one, frame, releases_per_year, where_now
from .cache import Cache
from .fetch import SIMPLE_JSON, fetch_metadata, list_projects, session, survey, user_agent
from ..errors import SurveyError
from .index import Index, index_from_pip, json_base_for, pip_default_index
from .records import TALK_EXAMPLES, normalise, scrub, trim
from .snapshots import DATA_DIR, LIVE_ENV, latest_snapshot, load, load_snapshot, save_snapshot

__all__ = [
    "ALIVE_DAYS", "Cache", "DATA_DIR", "Index", "LIVE_ENV", "RULES", "SIMPLE_JSON", "SurveyError",
    "TALK_EXAMPLES", "alive", "categorise_one", "fetch_metadata", "frame", "index_from_pip",
    "json_base_for", "latest_snapshot", "list_projects", "load", "load_snapshot", "normalise",
    "pip_default_index", "releases_per_year", "save_snapshot", "scrub", "session", "survey",
    "trim", "user_agent", "where_now",
]
