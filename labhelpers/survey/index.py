"""Which package index the survey asks: the one *your* pip is configured with.

``PIP_INDEX_URL``, else ``index-url`` in pip's configuration files, else pip's own
default. No host name is written here.

>>> json_base_for("https://index.example/simple/")
'https://index.example/pypi'

Introduced in ``05-more-modules``.
"""

from __future__ import annotations

import os
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from ..errors import SurveyError


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

    >>> Index(url="file:///opt/wheels/simple/", source="a folder", json_base=None).json_base is None
    True

    Introduced in ``05-more-modules``.
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

    Returns:
        The simple index URL pip uses when nothing else is configured.

    Raises:
        SurveyError: pip is not installed, so its default is unknown.

    >>> pip_default_index().endswith("/simple")
    True

    Introduced in ``05-more-modules``.
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

    Args:
        index_url: a simple index URL.

    Returns:
        ``<root>/pypi`` for ``<root>/simple/``, else None.

    >>> json_base_for("https://index.example/simple/")
    'https://index.example/pypi'
    >>> json_base_for("https://proxy.example/repository/pypi-all/") is None
    True
    >>> json_base_for("file:///opt/wheels/simple") is None
    True

    Introduced in ``05-more-modules``.
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

    Returns:
        The :class:`Index`, its ``source`` said in words.

    Raises:
        SurveyError: nothing is configured and pip is not installed.

    >>> index_from_pip().url.endswith("/")
    True

    Introduced in ``05-more-modules``.
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
