"""Trace, Pool.simulate / compare, SimReport (core: sim/)."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import dsvmpool

from conftest import TEAM

CSV = """user,start,duration,cpu
ana,2026-03-02T09:00:00Z,3600,0.5
ben,2026-03-02T09:30:00Z,PT2H,25%
"""


@pytest.fixture(scope="module")
def pool() -> dsvmpool.Pool:
    return dsvmpool.Pool.load(TEAM)


@pytest.fixture(scope="module")
def trace(pool: dsvmpool.Pool) -> dsvmpool.Trace:
    return dsvmpool.Trace.generate(pool=pool, users=12, days=14, seed=7)


def test_trace_from_text_and_files(tmp_path: Path) -> None:
    a = dsvmpool.Trace.from_csv(CSV)
    assert len(a) == 2
    assert a.sessions[1] == {"user": "ben", "start": 1772443800, "duration": 7200, "cpu": 0.25}
    as_json = json.dumps([{"user": s["user"], "start": s["start"], "duration": s["duration"], "cpu": s["cpu"]} for s in a.sessions])
    assert dsvmpool.Trace.from_json(as_json).sessions == a.sessions
    assert dsvmpool.Trace.parse(CSV).sessions == a.sessions
    assert dsvmpool.Trace.parse(json.dumps({"sessions": a.sessions})).sessions == a.sessions
    f = tmp_path / "t.csv"
    f.write_text(a.to_csv(), encoding="utf-8")
    assert dsvmpool.Trace.load(f).sessions == a.sessions
    assert a.span == (1772442000, 1772443800 + 7200)
    assert repr(a) == "<Trace: 2 sessions of 2 users from 2026-03-02 to 2026-03-02>"


def test_trace_errors(tmp_path: Path) -> None:
    with pytest.raises(dsvmpool.ValidationError) as info:
        dsvmpool.Trace.from_csv("user,start,duration,cpu\nana,yesterday,1h,0.5\n")
    assert info.value.errors[0]["path"].startswith("line 2")
    with pytest.raises(dsvmpool.IoError):
        dsvmpool.Trace.load(tmp_path / "missing.csv")


def test_generate_is_deterministic_and_takes_the_pools_zone(pool: dsvmpool.Pool) -> None:
    a = dsvmpool.Trace.generate(pool=pool, users=5, days=3, seed=3)
    b = dsvmpool.Trace.generate(pool=pool, users=5, days=3, seed=3)
    assert a.sessions == b.sessions
    utc = dsvmpool.Trace.generate(users=5, days=3, seed=3)
    assert utc.sessions != a.sessions  # Amsterdam mornings are not UTC mornings
    zoned = dsvmpool.Trace.generate(users=5, days=3, seed=3, time_zone="W. Europe Standard Time")
    assert zoned.sessions == a.sessions
    assert len({s["user"] for s in a.sessions}) <= 5


def test_generate_rejects_unknown_or_bad_arguments() -> None:
    with pytest.raises(TypeError, match="unknown field `userz`"):
        dsvmpool.Trace.generate(userz=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        dsvmpool.Trace.generate(users=-1)
    with pytest.raises(dsvmpool.ValidationError) as info:
        dsvmpool.Trace.generate(time_zone="Mars/Base")
    assert info.value.paths == ["time_zone"]


def test_simulate(pool: dsvmpool.Pool, trace: dsvmpool.Trace) -> None:
    r = pool.simulate(trace)
    assert r.policy == "spec"
    assert r.sessions == len(trace)
    assert r.served + r.refused + r.still_waiting == r.sessions
    assert r.cost is not None and r.cost_per_month is not None and r.currency == "USD"
    assert r.peak_instances <= 12
    assert 0 <= r.refused_pct <= 100 and 0 <= r.killed_pct <= 100
    d = r.to_dict()
    for key in ("policy", "sessions", "served", "refused", "killed", "instance_hours", "cost", "peak_instances"):
        assert d[key] == getattr(r, key)
    assert d["timeline"] == r.timeline and d["daily"] == r.daily
    assert str(r).startswith("Policy `spec` from ")
    assert repr(r).startswith("<SimReport 'spec': ")


def test_simulate_options_and_policies(pool: dsvmpool.Pool, trace: dsvmpool.Trace) -> None:
    fixed = pool.simulate(trace, policy="fixed", fixed_instances=3)
    assert fixed.peak_instances == 3 and fixed.refused >= 0
    slow = pool.simulate(trace, boot_time=1800, patience=60)
    fast = pool.simulate(trace, boot_time=60, patience=3600)
    assert slow.refused >= fast.refused
    with pytest.raises(TypeError, match="unknown field `boot`"):
        pool.simulate(trace, boot=3)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unknown policy"):
        pool.simulate(trace, policy="magic")  # type: ignore[arg-type]


def test_compare(pool: dsvmpool.Pool, trace: dsvmpool.Trace) -> None:
    reports = pool.compare(trace)
    assert [r.policy for r in reports] == ["fixed", "cpu", "spec", "sessions"]
    two = pool.compare(trace, policies=["spec", "fixed"])
    assert [r.policy for r in two] == ["spec", "fixed"]
    assert two[0].to_dict() == reports[2].to_dict()
    table = dsvmpool.comparison_table(reports)
    assert table.splitlines()[0].split() == ["fixed", "cpu", "spec", "sessions"]


def test_plots(tmp_path: Path, pool: dsvmpool.Pool, trace: dsvmpool.Trace) -> None:
    reports = pool.compare(trace, policies=["fixed", "spec"])
    svg = dsvmpool.plot_svg(reports)
    assert svg.lstrip().startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert reports[1].plot_svg().lstrip().startswith("<svg")
    for name in ("plot.svg", "plot.png"):
        dsvmpool.write_plot(tmp_path / name, reports)
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_shows_the_table_and_the_plot(pool: dsvmpool.Pool, trace: dsvmpool.Trace) -> None:
    html = pool.simulate(trace)._repr_html_()
    assert html.startswith('<div class="dsvmpool-simreport">')
    assert "<pre>" in html and "instance hours" in html and "<svg" in html


def test_to_pandas(pool: dsvmpool.Pool, trace: dsvmpool.Trace) -> None:
    pd = pytest.importorskip("pandas")
    r = pool.simulate(trace)
    tl = r.to_pandas()
    assert len(tl) == len(r.timeline)
    assert list(tl.columns) == [k for k in r.timeline[0] if k != "time"]
    assert str(tl.index.tz) == "UTC"
    assert int(tl.index[0].timestamp()) == r.timeline[0]["time"]
    daily = r.to_pandas("daily")
    assert list(daily.columns) == [k for k in r.daily[0] if k != "date"]
    assert daily["instance_hours"].sum() == pytest.approx(r.instance_hours)
    sessions = trace.to_pandas()
    assert list(sessions.columns) == list(trace.sessions[0])
    assert isinstance(sessions["start"].iloc[0], pd.Timestamp)
    with pytest.raises(ValueError, match="unknown table"):
        r.to_pandas("weekly")  # type: ignore[arg-type]


def test_to_pandas_without_pandas_says_so(monkeypatch: pytest.MonkeyPatch, pool: dsvmpool.Pool, trace: dsvmpool.Trace) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match="pip install pandas"):
        pool.simulate(trace).to_pandas()
    with pytest.raises(ImportError, match="pip install pandas"):
        trace.to_pandas()


def test_same_report_as_the_cli(cli: Path, pool: dsvmpool.Pool) -> None:
    out = subprocess.run(
        [str(cli), "simulate", str(TEAM), "--synthetic", "9", "--days", "10", "--seed", "5", "--output", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    trace = dsvmpool.Trace.generate(pool=pool, users=9, days=10, seed=5)
    mine = pool.simulate(trace)
    assert json.loads(json.dumps(mine.to_dict())) == json.loads(out)


def test_reports_are_plain_data(pool: dsvmpool.Pool, trace: dsvmpool.Trace) -> None:
    r = pool.simulate(trace)
    assert pickle.loads(pickle.dumps(r.to_dict())) == r.to_dict()
