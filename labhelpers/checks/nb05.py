"""Checkers of ``05-more-modules``: they recompute the answer from the survey data.

>>> records = [
...     {"name": "docker-mon", "summary": "monitor containers", "released": "2026-03-01"},
...     {"name": "docker-stats", "summary": "", "released": "2025-01-01"},
...     {"name": "docker-build", "summary": "", "released": "2026-02-01"},
... ]
>>> monitoring_released_in(1, records, year=2026)
✅ pass: monitoring projects with their latest release in 2026
>>> monitoring_released_in(2, records, year=2026).passed
False

Introduced in ``05-more-modules``.
"""

from __future__ import annotations

from . import Exercise, Result


def count_released_in(records, category: str, year: int, rules=None) -> int:
    """Projects of ``category`` whose latest release is in ``year`` (the reference answer)."""
    from ..survey import categorise_one

    return sum(
        1 for r in records
        if (r.get("released") or "")[:4] == str(year)
        and categorise_one(r["name"], r.get("summary") or "", rules) == category
    )


def monitoring_released_in(answer, records=None, year: int | None = None, rules=None,
                           category: str = "monitoring") -> Result:
    """Exercise: how many ``monitoring`` projects had their latest release in ``year``?

    Args:
        answer: the learner's number.
        records: the survey (default: the shipped snapshot).
        year: default: the year the survey was taken.
        rules: the categorisation rules (default: ``labhelpers.survey.RULES``, as edited).
    """
    task = f"{category} projects with their latest release in {year or 'the survey year'}"
    if records is None:
        from ..survey import load_snapshot

        records, meta = load_snapshot()
        year = year or int(meta["taken"][:4])
        task = f"{category} projects with their latest release in {year}"
    if year is None:
        raise ValueError("pass the year when you pass your own records")
    if isinstance(answer, bool) or not isinstance(answer, int):
        try:
            answer = int(answer)  # numpy integers, a pandas count
        except (TypeError, ValueError):
            return Result.of(task, [(f"answer with a whole number, not {type(answer).__name__}", 1)],
                             exercise="05-monitoring")
    expected = count_released_in(records, category, year, rules)
    if answer == expected:
        return Result.of(task, [], exercise="05-monitoring")
    hint = "too many" if answer > expected else "too few"
    return Result.of(task, [
        (f"{answer} is {hint}: keep the rows whose category is {category!r} "
         f"and whose 'released' date is in {year}, then count them", 2),
    ], exercise="05-monitoring")


EXERCISES = [Exercise(
    name="05-monitoring",
    task="how many monitoring projects had their latest release in the survey's year",
    check=monitoring_released_in,
    hints=[
        "`df` has one row per project, with its `category` and its `released` date; "
        "the survey's year is `int(meta[\"taken\"][:4])`.",
        "Two conditions joined with `&`: `df.category == \"monitoring\"` and "
        "`df.released.dt.year == year`; `.sum()` counts the rows where both hold.",
        "`answer = int(((df.category == \"monitoring\") & (df.released.dt.year == year)).sum())`",
    ],
    solution="""\
year = int(meta["taken"][:4])
answer = int(((df.category == "monitoring") & (df.released.dt.year == year)).sum())
""",
    needs_engine=False,
)]
