"""`make bench` (python -m bench): every benchmark, printed and written to bench/RESULTS.md.

Figures are ratios and medians measured in one run: the machines are shared and noisy."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import dispatch, lifecycle, scale, send, startup
from .common import emulator, machine

HERE = Path(__file__).parent
COMMAND = "make bench   # = .venv/bin/python -m bench"


def state(count: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.state", str(count)],
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE.parent,
    ).stdout
    return dict(json.loads(out))


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
    print("send throughput vs bare Starlette ...", flush=True)
    ratio = send.send_ratio()
    print(json.dumps(ratio), flush=True)
    print("sends with scenario and webhooks ...", flush=True)
    hooks = send.with_webhooks()
    print(json.dumps(hooks), flush=True)
    print("webhook dispatch vs plain client loops ...", flush=True)
    delivery = dispatch.dispatch()
    print(json.dumps(delivery), flush=True)
    grown = {}
    for size in sizes:
        print(f"state at {size:,} messages ...", flush=True)
        grown[size] = state(size)
        print(json.dumps(grown[size]), flush=True)
    print("start-up and plugin reset ...", flush=True)
    boot = startup.startup()
    with emulator("--clock", "manual") as base:
        reset = startup.plugin_reset(base)
    print(json.dumps({"startup": boot, "reset": reset}), flush=True)
    print("the whole lifecycle: sends, then the advance that makes every callback ...", flush=True)
    whole = lifecycle.lifecycle()
    print(json.dumps(whole), flush=True)
    print("the Redis engine: CPU per send at 1, 2, 4 processes; join; bytes ...", flush=True)
    shared = scale.scale()
    print(json.dumps(shared), flush=True)
    write(ratio, hooks, delivery, grown, boot, reset, whole, shared)


def write(
    ratio: dict[str, Any],
    hooks: dict[str, Any],
    delivery: dict[str, Any],
    grown: dict[int, dict[str, Any]],
    boot: dict[str, Any],
    reset: dict[str, Any],
    whole: dict[str, Any],
    shared: dict[str, Any],
) -> None:
    small, large = min(grown), max(grown)
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        f"Command: `{COMMAND}`. Servers pinned to core 0 and wrk to core 1 (`taskset`);",
        "send figures are medians of 5 alternating rounds of 4 s (`wrk -t1 -c16`), the emulator",
        "reset before each of its rounds. The baseline is `bench/bare_app.py` on uvicorn's fastest",
        "settings (httptools, uvloop, no access log); the emulator serves on the same stack with",
        "its header bounds and deadlines. Dispatch: `bench/dispatch.py` (its docstring says how).",
        "",
        "| target | measured | target value |",
        "|---|---|---|",
    ]
    for provider, r in ratio.items():
        lines.append(
            f"| send ratio, {provider} (emulator/bare) | **{r['ratio']}** "
            f"({r['emulator_rps']} / {r['bare_rps']} req/s) | >= 0.75 |"
        )
    lines.append(
        f"| webhook dispatch, callbacks/s (emulator / fastest plain loop) | "
        f"**{delivery['ratio_to_fastest_loop']}** ({delivery['emulator_callbacks_per_s']} "
        f"/ {delivery['fastest_loops_per_s']}; loops: http1 "
        f"{delivery['http1_loops_per_s']}, aiohttp {delivery['aiohttp_loops_per_s']}, "
        f"httpx {delivery['httpx_loops_per_s']}; emulator CPU while delivering "
        f"{delivery['emulator_cpu_share']}; all delivered: "
        f"{delivery['all_delivered']}) | >= 0.75 |"
    )
    arrived = hooks["all_arrived"]
    lines.append(
        f"| sends/s with scenario + webhooks, every callback delivered | "
        f"**{hooks['sends_per_s']}** (all arrived: {arrived}) | >= 1,000 |"
    )
    kept = grown[small]["exchange_bytes_per_send"]
    exchange = (kept["generic"] + kept["serwersms"]) / 2
    for size, g in grown.items():
        stored = g["bytes_per_message"]
        lines.append(
            f"| bytes per stored text message at {size:,}, single-number sends: "
            f"record + its exchange | **{stored}** ({stored - exchange:.0f} + "
            f"{exchange:.0f}) | record <= 2,048 |"
        )
    lines.append(
        f"| the HTTP exchange kept per single-number send (Generic / SerwerSMS; a send "
        f"to N numbers keeps one) | **{kept['generic']} / {kept['serwersms']}** | "
        "reported |"
    )
    for read, us in grown[large]["read_median_us"].items():
        base = grown[small]["read_median_us"][read]
        lines.append(
            f"| {read}: {large:,} vs {small:,} | **{us / base:.2f}x** ({us} vs {base} us) "
            "| <= 1.5x |"
        )
    lines.append(f"| start-up to first healthy answer | **{boot['median_s']} s** | <= 1 s |")
    lines.append(f"| pytest plugin reset per test | **{reset['median_ms']} ms** | <= 5 ms |")
    lines.append(
        f"| lifecycle rate (messages / (send time + advance time)) / raw send rate "
        f"(`bench/lifecycle.py`) | **{whole['lifecycle_to_raw_send']}** "
        f"({whole['lifecycle_rps']} / {whole['raw_send_rps']} msg/s; a bare Starlette "
        f"app making the same traffic: {whole['bare']['lifecycle_rps']} / "
        f"{whole['bare']['send_rps']}) | >= 0.5 (not met: README says why) |"
    )
    lines.append(
        f"| callbacks/s during an advance / fastest plain client loop | "
        f"**{whole['advance_callbacks_to_fastest_loop']}** "
        f"({whole['advance_callbacks_per_s']} / {whole['fastest_plain_loop_per_s']}; "
        f"all delivered: {whole['all_delivered']}) | >= 0.75 |"
    )
    real = whole["real_clock"]
    lines.append(
        f"| real clock, saturated sends: last callback after the last send | "
        f"**{real['last_callback_after_last_send_s']} s** | <= {real['target_s']} s "
        "(longest scenario delay + 1 s) |"
    )
    cpu = shared["cpu_per_send"]
    memory = cpu["memory"]
    lines.append(
        f"| CPU per Generic send, one memory process (`bench/scale.py`) | "
        f"**{memory['total_us']} us** ({memory['sends_per_s']} sends/s) | reported |"
    )
    for n in scale.PROCESSES:
        row = cpu[f"redis_{n}"]
        lines.append(
            f"| CPU per Generic send on one Redis, {n} process{'es' if n > 1 else ''} "
            f"at 16 connections each ({cpu['tenants']} tenants): processes + Redis | "
            f"**{row['total_us']} us** ({row['process_us']} + {row['redis_us']}; "
            f"{row['vs_memory']}x memory; {row['sends_per_s']} sends/s on 2 cores) | "
            "reported |"
        )
    clustered = {
        "cluster_1": "1 process",
        "cluster_2": "2 processes",
        "cluster_1_wait_1": "1 process, each commit WAITing for a replica",
    }
    for name, said in clustered.items():
        row = cpu[name]
        lines.append(
            f"| the same on a Redis Cluster of 3 masters and 3 replicas, {said}: "
            f"processes + every redis-server | **{row['total_us']} us** "
            f"({row['process_us']} + {row['redis_us']}; {row['vs_memory']}x memory; "
            f"{row['sends_per_s']} sends/s) | reported |"
        )
    instant = cpu["redis_1_instant"]
    lines.append(
        f"| the same, one process whose commits are answered at once without Redis "
        f"(`bench/instant.py`): the process apart from its calls | "
        f"**{instant['process_us']} us** ({instant['vs_memory']}x memory) | reported |"
    )
    lazy = cpu["redis_1_everysec"]
    lines.append(
        f"| the same, one process on a Redis fsyncing its AOF once a second | "
        f"**{lazy['total_us']} us** ({lazy['process_us']} + {lazy['redis_us']}; "
        f"{lazy['sends_per_s']} sends/s) | reported |"
    )
    waits = shared["wait_cost"]
    lines.append(
        f"| this machine: CPU of one round trip to Redis in the process that waits, "
        f"answered at once / ~2 ms later (asyncio stream; blocking socket) | "
        f"**{waits['asyncio_at_once']['cpu_us']} us / "
        f"{waits['asyncio_after_2ms']['cpu_us']} us** "
        f"({waits['blocking_at_once']['cpu_us']} us / "
        f"{waits['blocking_after_2ms']['cpu_us']} us) | reported |"
    )
    joined = shared["join"]
    full = joined[next(k for k in joined if k.startswith("on_") and k != "on_empty_state")]
    empty = joined["on_empty_state"]
    lines.append(
        f"| a process joining a state of {joined['messages']:,} messages: ready / "
        f"first send answered / RSS (on an empty state) | **{full['ready_s']} s / "
        f"{full['first_send_s']} s / {full['rss_mb']} MB** ({empty['ready_s']} s / "
        f"{empty['first_send_s']} s / {empty['rss_mb']} MB) | <= 2 s, flat |"
    )
    size = shared["bytes_in_redis"]
    lines.append(
        f"| bytes in Redis per message (AOF aside): single-number sends (each keeps "
        f"its HTTP exchange) / sends to 100 numbers | "
        f"**{size['bytes_per_message_1_per_send']} / "
        f"{size['bytes_per_message_100_per_send']}** | reported |"
    )
    lines += [
        "",
        "## Raw figures",
        "",
        "```json",
        json.dumps(
            {
                "send": ratio,
                "webhooks": hooks,
                "dispatch": delivery,
                "state": grown,
                "startup": boot,
                "reset": reset,
                "lifecycle": whole,
                "scale": shared,
            },
            indent=2,
        ),
        "```",
        "",
    ]
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
