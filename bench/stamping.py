"""Scheduled events on a running clock are stamped when they were due (issue 35, defect 4): a
10,000-message load mix at x10 and x100 against the distribution its scenario configures,
Kolmogorov-Smirnov on the exact event times the control API shows (milliseconds), and the
manual clock, which runs each event at its own time by construction, as the reference.

    .venv/bin/python -m bench.stamping [COUNT] [--before DIR]

With `--before DIR` (an unpacked checkout of an earlier commit) the same load also runs on that
code, to show what was measured before. Needs scipy (`pip install scipy`): its KS and
chi-square tests, not hand-rolled ones.
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from .common import emulator, machine

SCENARIO = """
name: load-mix
mix:
  - {weight: 80, name: read, timeline: [
      {after: {lognormal: {median: 2, p99: 30}}, event: delivered},
      {after: {exponential: {mean: 4}}, event: read}]}
  - {weight: 20, name: fixed, timeline: [{after: 1, event: delivered}]}
"""
MEDIAN, P99, MEAN_READ, FIXED, WEIGHTS = 2.0, 30.0, 4.0, 1.0, (80, 20)
SIGMA = (math.log(P99) - math.log(MEDIAN)) / 2.3263478740408408  # z of the 99th percentile
AUTH = {"Authorization": "Bearer bench-token"}
BATCH = 500
COMMAND = ".venv/bin/python -m bench.stamping"


def epoch(shown: str) -> float:
    """'2026-01-01T00:00:00.123Z' as epoch seconds."""
    whole, _, milli = shown.rstrip("Z").partition(".")
    return (
        time.mktime(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
        - time.timezone
        + (int(milli or 0) / 1000)
    )


def load(base: str, count: int, manual: bool) -> list[dict[str, Any]]:
    """Send `count` messages in requests of BATCH, let every scheduled event run (at once on
    the manual clock, by itself on a running one), and read them back."""
    with httpx.Client(base_url=base, timeout=120) as http:
        for start in range(0, count, BATCH):
            phones = [f"+4850{i:07d}" for i in range(start, min(count, start + BATCH))]
            body = {"rcs_id": "bench", "phone": phones, "message": {"text": "Your parcel"}}
            answer = http.post("/messages/send_rcs.json", json=body, headers=AUTH)
            assert answer.json().get("queued") == len(phones), answer.text
        if manual:
            http.post("/_emulator/clock/advance", json={"seconds": 86400}).raise_for_status()
        deadline = time.monotonic() + 600
        while http.get("/_emulator/health").json()["scheduled_events"]:
            assert time.monotonic() < deadline, "the events did not all run in 10 minutes"
            time.sleep(0.2)
        found: list[dict[str, Any]] = []
        while len(found) < count:
            page = http.get(
                "/_emulator/messages",
                params={"offset": len(found), "limit": 2000, "exchange": "false"},
            ).json()
            found += page["items"]
        return found


def delays(messages: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Each phone's delays between its message's events, in order."""
    found = {}
    for m in messages:
        times = [epoch(e["time"]) for e in m["events"]]
        found[m["phone"]] = [b - a for a, b in zip(times, times[1:], strict=False)]
    return found


def judge(messages: list[dict[str, Any]]) -> dict[str, Any]:
    from scipy import stats  # type: ignore[import-untyped]

    delivered, read, fixed = [], [], []
    for m in messages:
        times = {e["type"]: epoch(e["time"]) for e in m["events"]}
        if "read" in times:
            delivered.append(times["delivered"] - times["sent"])
            read.append(times["read"] - times["delivered"])
        else:
            fixed.append(times["delivered"] - times["sent"])
    lognormal = stats.kstest(delivered, stats.lognorm(s=SIGMA, scale=MEDIAN).cdf)
    exponential = stats.kstest(read, stats.expon(scale=MEAN_READ).cdf)
    expected = [len(messages) * w / sum(WEIGHTS) for w in WEIGHTS]
    mix = stats.chisquare([len(delivered), len(fixed)], expected)
    return {
        "delivered_median": round(statistics.median(delivered), 3),
        "delivered_ks_d": round(float(lognormal.statistic), 4),
        "delivered_ks_p": round(float(lognormal.pvalue), 3),
        "read_mean": round(statistics.fmean(read), 3),
        "read_ks_p": round(float(exponential.pvalue), 3),
        "mix_chi2_p": round(float(mix.pvalue), 3),
        "fixed_after_1_as": sorted({f"{g:.3f}" for g in fixed})[:4],
        "fixed_max_error": round(max(abs(g - FIXED) for g in fixed), 4),
    }


def run(count: int, code: Path | None = None) -> dict[str, dict[str, Any]]:
    env = {"PYTHONPATH": str(code)} if code is not None else {}
    results = {}
    reference: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        scenario = Path(folder) / "load-mix.yaml"
        scenario.write_text(SCENARIO)
        clocks = [
            ("manual", ["--clock", "manual"]),
            ("x10", ["--clock", "scaled", "--speed", "10"]),
            ("x100", ["--clock", "scaled", "--speed", "100"]),
        ]
        for name, flags in clocks:
            argv = [*flags, "--scenario", str(scenario), "--seed", "35"]
            with emulator(*argv, env=env) as base:
                began = time.perf_counter()
                messages = load(base, count, manual=name == "manual")
                wall = round(time.perf_counter() - began, 1)
                results[name] = judge(messages) | {"wall_s": wall}
                if name == "manual":
                    reference = delays(messages)
                else:  # the same seed draws the same delays: each message's, against manual
                    own = delays(messages)
                    gaps = [
                        abs(a - b)
                        for phone, ds in own.items()
                        for a, b in zip(ds, reference.get(phone, []), strict=False)
                    ]
                    results[name]["max_diff_from_manual_s"] = round(max(gaps), 4)
            print(f"{name}: {results[name]}", flush=True)
    return results


def main() -> None:
    args = sys.argv[1:]
    code = None
    if "--before" in args:
        at = args.index("--before")
        code = Path(args[at + 1]).resolve()
        del args[at : at + 2]
    count = int(args[0]) if args else 10_000
    print(f"# {COMMAND} {' '.join(sys.argv[1:])}".rstrip())
    print(f"# {machine()}")
    print(
        f"# {count} messages; mix 80% lognormal(median 2, p99 30) then exponential(mean 4), "
        "20% fixed 1 s"
    )
    print("## this code")
    run(count)
    if code is not None:
        print(f"## code at {code}")
        run(count, code)


if __name__ == "__main__":
    main()
