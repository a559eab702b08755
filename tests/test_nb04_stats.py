"""Stats arithmetic (pure) and a real sample from a busy container."""

from __future__ import annotations

import uuid

import labhelpers as lab
from labhelpers import stats

PY = "python:3.13-slim-trixie"


def _doc(total, system, cpus=2, usage=None, inactive=0, key="total_inactive_file"):
    doc = {"cpu_stats": {"cpu_usage": {"total_usage": total}, "system_cpu_usage": system,
                         "online_cpus": cpus}}
    if usage is not None:
        doc["memory_stats"] = {"usage": usage, "limit": 64 * stats.MiB, "stats": {key: inactive}}
    return doc


def test_cpu_percent_between_two_documents():
    assert stats.cpu_percent(_doc(3_000, 10_000), _doc(1_000, 6_000)) == 100.0
    assert stats.cpu_percent(_doc(1_000, 6_000), _doc(1_000, 6_000)) is None  # no time passed
    assert stats.cpu_percent(_doc(1_000, 6_000)) is None  # no earlier sample


def test_cpu_percent_uses_precpu_when_no_earlier_document():
    doc = _doc(2_000, 8_000, cpus=4)
    doc["precpu_stats"] = _doc(1_000, 4_000)["cpu_stats"]
    assert stats.cpu_percent(doc) == 100.0


def test_memory_without_page_cache_cgroup_v1_and_v2():
    assert stats.memory_bytes(_doc(0, 0, usage=10 * stats.MiB, inactive=4 * stats.MiB)) == 6 * stats.MiB
    v2 = _doc(0, 0, usage=10 * stats.MiB, inactive=stats.MiB, key="inactive_file")
    assert stats.memory_bytes(v2) == 9 * stats.MiB
    assert stats.memory_bytes({"memory_stats": {}}) is None
    assert stats.row(v2)["limit (MiB)"] == 64.0


def test_frame_samples_a_busy_container(client, python_image):
    busy = client.containers.run(PY, ["python", "-c", "while True: pass"], detach=True,
                                 nano_cpus=500_000_000, name=f"h04-{uuid.uuid4().hex[:8]}-busy",
                                 labels=lab.labels_for("99"))
    try:
        df = stats.frame(busy, samples=3)
    finally:
        busy.remove(force=True)
    assert len(df) == 3
    assert list(df.columns) == ["t (s)", "cpu %", "memory (MiB)", "limit (MiB)"]
    assert df["cpu %"].max() > 5  # it burns CPU...
    assert df["cpu %"].mean() < 60  # ...but no more than its half CPU, on average
    assert (df["memory (MiB)"] > 0).all()


def test_an_engine_without_counters_gets_one_clear_error():
    """A rootless engine on cgroup v1 streams stats documents with no counters in them."""
    import pytest

    from labhelpers.errors import StatsUnavailable
    from labhelpers.stats import frame

    class NoCounters:  # the stream's shape, as such an engine sends it
        name = "nb04-busy"

        def stats(self, stream, decode):
            return iter([{"read": "2026-11-30T00:00:00Z", "precpu_stats": {}, "cpu_stats": {}}] * 100)

    with pytest.raises(StatsUnavailable, match="no CPU or memory counters"):
        frame(NoCounters(), samples=5)
