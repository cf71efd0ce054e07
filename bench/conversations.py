"""Conversation files at once against one emulator: 20 files made from the sample bot's passing
conversations (each on a phone of its own), `rcs-emulator conversations run --jobs 8 --reset`
against the same run one after another (`--jobs 1 --reset`, the strongest honest baseline: the
same runner, the same files, the same emulator and bot), medians of alternating rounds.

    .venv/bin/python -m bench.conversations [ROUNDS]
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import BIN, ROOT, emulator, free_port, machine, wait_healthy

EXAMPLES = ROOT / "examples" / "bot" / "conversations"
FILES, JOBS = 20, 8


def copies(folder: Path, count: int) -> list[Path]:
    """`count` files from the passing examples (the partial they include beside them), each on
    a phone of its own."""
    (folder / "greeting.convo.yaml").write_text(
        (EXAMPLES / "partials/greeting.convo.yaml").read_text()
    )
    sources = sorted(p for p in EXAMPLES.glob("*.convo.yaml") if "greetings" not in p.name)
    made = []
    for i in range(count):
        source = sources[i % len(sources)]
        number = f"{6000 + i:07d}"
        text = re.sub(
            r'phone: "\+(4670|4850)(\d+)"', rf'phone: "+\g<1>{number}"', source.read_text()
        )
        path = folder / f"{i:02d}-{source.name}"
        path.write_text(text)
        made.append(path)
    return made


def timed(argv: list[str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - began
    if done.returncode != 0 or f"{FILES} conversations: {FILES} passed" not in done.stdout:
        raise RuntimeError(f"the run did not pass:\n{done.stdout}\n{done.stderr}")
    return seconds


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print(f"# .venv/bin/python -m bench.conversations {rounds}")
    print(f"# {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        files = [str(p) for p in copies(Path(folder), FILES)]
        port = free_port()
        hook = f"http://127.0.0.1:{port}/webhook"
        with emulator("--clock", "manual", "--webhook-url", hook) as base:
            env = os.environ | {"EMULATOR_URL": base, "PORT": str(port)}
            bot = subprocess.Popen(
                [sys.executable, str(ROOT / "examples/bot/bot.py")],
                env=env,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_healthy(f"http://127.0.0.1:{port}/")
                command = [
                    str(BIN / "rcs-emulator"),
                    "conversations",
                    "run",
                    *files,
                    "--url",
                    base,
                    "--reset",
                ]
                shown = f"rcs-emulator conversations run <{FILES} files> --url {base} --reset"
                print(f"# parallel: {shown} --jobs {JOBS}")
                print(f"# baseline: {shown} --jobs 1")
                walls: dict[str, list[float]] = {"jobs 1": [], f"jobs {JOBS}": []}
                for _ in range(rounds):  # alternating, so drift hits both alike
                    walls["jobs 1"].append(timed([*command, "--jobs", "1"]))
                    walls[f"jobs {JOBS}"].append(timed([*command, "--jobs", str(JOBS)]))
            finally:
                bot.terminate()
                bot.wait(10)
    medians = {name: statistics.median(w) for name, w in walls.items()}
    for name, seconds in walls.items():
        print(
            f"{name}: median {medians[name]:.2f} s (rounds: "
            f"{', '.join(f'{s:.2f}' for s in seconds)})"
        )
    print(
        f"--jobs {JOBS} takes {medians[f'jobs {JOBS}'] / medians['jobs 1']:.2f} of the wall "
        f"time of one after another ({medians['jobs 1'] / medians[f'jobs {JOBS}']:.1f}x "
        "faster)"
    )


if __name__ == "__main__":
    main()
