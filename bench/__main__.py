"""`make bench` (python -m bench): every benchmark, printed and written to bench/RESULTS.md.

Figures are ratios and medians measured in one run: the machines are shared and noisy."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import dispatch, scale, send, startup
from .common import emulator, machine

HERE = Path(__file__).parent
COMMAND = "make bench   # = .venv/bin/python -m bench"


def state(count: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.state", str(count)], check=True,
                         capture_output=True, text=True, cwd=HERE.parent).stdout  # fmt: skip
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
    print("memory vs Redis: one process and two workers ...", flush=True)
    shared = scale.scale()
    print(json.dumps(shared), flush=True)
    write(ratio, hooks, delivery, grown, boot, reset, shared)


def write(ratio: dict[str, Any], hooks: dict[str, Any], delivery: dict[str, Any],
          grown: dict[int, dict[str, Any]], boot: dict[str, Any],
          reset: dict[str, Any], shared: dict[str, Any]) -> None:  # fmt: skip
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
        lines.append(f"| send ratio, {provider} (emulator/bare) | **{r['ratio']}** "
                     f"({r['emulator_rps']} / {r['bare_rps']} req/s) | >= 0.75 |")  # fmt: skip
    lines.append(f"| webhook dispatch, callbacks/s (emulator / fastest plain loop) | "
                 f"**{delivery['ratio_to_fastest_loop']}** ({delivery['emulator_callbacks_per_s']} "
                 f"/ {delivery['fastest_loops_per_s']}; loops: http1 "
                 f"{delivery['http1_loops_per_s']}, aiohttp {delivery['aiohttp_loops_per_s']}, "
                 f"httpx {delivery['httpx_loops_per_s']}; emulator CPU while delivering "
                 f"{delivery['emulator_cpu_share']}; all delivered: "
                 f"{delivery['all_delivered']}) | >= 0.75 |")  # fmt: skip
    arrived = hooks["all_arrived"]
    lines.append(f"| sends/s with scenario + webhooks, every callback delivered | "
                 f"**{hooks['sends_per_s']}** (all arrived: {arrived}) | >= 1,000 |")  # fmt: skip
    kept = grown[small]["exchange_bytes_per_send"]
    exchange = (kept["generic"] + kept["serwersms"]) / 2
    for size, g in grown.items():
        whole = g["bytes_per_message"]
        lines.append(f"| bytes per stored text message at {size:,}, single-number sends: "
                     f"record + its exchange | **{whole}** ({whole - exchange:.0f} + "
                     f"{exchange:.0f}) | record <= 2,048 |")  # fmt: skip
    lines.append(f"| the HTTP exchange kept per single-number send (Generic / SerwerSMS; a send "
                 f"to N numbers keeps one) | **{kept['generic']} / {kept['serwersms']}** | "
                 "reported |")  # fmt: skip
    for read, us in grown[large]["read_median_us"].items():
        base = grown[small]["read_median_us"][read]
        lines.append(f"| {read}: {large:,} vs {small:,} | **{us / base:.2f}x** ({us} vs {base} us) "
                     "| <= 1.5x |")  # fmt: skip
    lines.append(f"| start-up to first healthy answer | **{boot['median_s']} s** | <= 1 s |")
    lines.append(f"| pytest plugin reset per test | **{reset['median_ms']} ms** | <= 5 ms |")
    rps = shared["sends_per_s"]
    lines.append(f"| Generic sends, one process on Redis / one memory process (all on both "
                 f"cores; `bench/scale.py`) | **{shared['redis_1_vs_memory']}** ({rps['redis_1']} "
                 f"/ {rps['memory']} req/s) | >= 0.5 |")  # fmt: skip
    two = shared["redis_2_workers_vs_memory"]
    why = "" if two >= 1.0 else " (not met: README, Scaling out, says why)"
    lines.append(f"| Generic sends, two workers on Redis / one memory process | **{two}** "
                 f"({rps['redis_2_workers']} / {rps['memory']} req/s) | >= 1.0{why} |")  # fmt: skip
    lazy = shared["redis_2_workers_everysec_vs_memory"]
    lines.append(f"| the same two workers, Redis fsyncing its AOF once a second (`appendfsync "
                 f"everysec`) / one memory process | **{lazy}** "
                 f"({rps['redis_2_workers_everysec']} / {rps['memory']} req/s) "
                 "| reported |")  # fmt: skip
    ceiling = shared["memory_2_unshared_vs_memory"]
    lines.append(f"| ceiling: two memory workers sharing nothing (each its own state; not a "
                 f"product setting) / one memory process | **{ceiling}** "
                 f"({rps['memory_2_unshared']} / {rps['memory']} req/s) | reported |")  # fmt: skip
    size = shared["bytes_in_redis"]
    lines.append(f"| bytes in Redis per single-number send after {size['messages']:,} (AOF "
                 f"aside): all / an archived command / a command in the stream | "
                 f"**{size['bytes_per_send']} / {size['archived_bytes_per_send']} / "
                 f"{size['stream_bytes_per_send']}** | reported |")  # fmt: skip
    lines.append(f"| a process joining that state: first answer (it replays every command "
                 f"first) / per command | **{size['late_joiner_first_answer_s']} s / "
                 f"{size['catch_up_us_per_command']} us** | reported |")  # fmt: skip
    lines += ["", "## Raw figures", "", "```json",
              json.dumps({"send": ratio, "webhooks": hooks, "dispatch": delivery,
                          "state": grown, "startup": boot,
                          "reset": reset, "scale": shared}, indent=2),
              "```", ""]  # fmt: skip
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
