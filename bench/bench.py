"""Benchmarks: shopgen against the tools users already run, in one run on one machine.

    python bench/bench.py [--runs 7] [--sizes 6,25,50,100,200] [--out bench/results] [--work DIR]

1. `shopgen synth` of all six stages against `kubectl kustomize` of the same six rendered folders:
   a cold render (no shopgen cache, empty output root; jsii's package cache warm, as on any machine
   after its first run) and a no-change rerun.
2. `shopgen validate --all --crd-dir …` against `kubernetes-validate --strict` on the same files,
   and `shopgen diff baseline prestop`.
3. `shopgen simulate --all` (six stages x surge and rollout at 100 req/s for 1000 s, about 1.2 million
   simulated requests) against a cold `shopgen synth` of the same six stages, with its peak memory;
   once on one core (--jobs 1) and once on every core.
4. Growth: shops of N declared app services (the retail profile's six plus N - 6 services declared
   in shopgen.yaml, shaped like checkout: `grown_shop`): synth time and peak memory of the whole
   process tree (Python and Node together), and a least-squares fit of time per service.

Commands are timed as whole processes, interleaved (A B A B …) after a warm-up, each after an
untimed `sync` (so no run pays for an earlier run's writeback); medians and the ratio of medians
are reported. Writes a markdown table (and a PNG plot when matplotlib, from the
`bench` extra, is installed). Needs the `test` extra (kubectl) on PATH.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

CRD_DIR = Path(__file__).resolve().parents[2] / "shared" / "crds"

# One declared service shaped like the profile's checkout: a Node service calling orders, no store.
GROWN_SERVICE = """\
  svc-{i:03d}:
    image: {{repository: public.ecr.aws/aws-containers/retail-store-sample-checkout, tag: "0.7.1"}}
    runtime: {{kind: node, start_seconds: 30}}
    health: {{readiness: /health, liveness: /health}}
    metrics_path: /metrics
    settings: {{REDIS_URL: "redis://checkout-redis:6379"}}
    calls: {{orders: {{env: ENDPOINTS_ORDERS, with_port: true}}}}
    resources: {{cpu: 128m, memory: 256Mi}}
"""


def grown_shop(services: int) -> str:
    """shopgen.yaml of a shop of ``services`` app services: the default profile's six plus declared ones."""
    return (
        "services:\n" + "".join(GROWN_SERVICE.format(i=i) for i in range(1, services - 5)) if services > 6 else "{}\n"
    )


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        sys.exit(f"bench: {name} not found; install the project with its test extra")
    return found


def _tree_rss(root_pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def run(cmd: list[str], *, env: dict[str, str] | None = None, sample_memory: bool = False) -> tuple[float, int]:
    """Wall seconds and (when sampled) the peak RSS of the process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    peak = 0
    if sample_memory:
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(proc.pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        proc.wait()
        done.set()
        sampler.join()
    else:
        proc.wait()
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"bench: {' '.join(cmd)} failed with exit {proc.returncode}")
    return elapsed, peak


def compile_bytecode() -> None:
    """Compile shopgen's modules, as `pip install .` does: with an editable install under
    PYTHONDONTWRITEBYTECODE (set on some machines) every run would compile them from source again."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("shopgen")
    for folder in spec.submodule_search_locations if spec else []:
        compileall.compile_dir(folder, quiet=1)


def settled(measure: Callable[[], float]) -> float:
    """Flush what earlier runs left for the disk first (untimed): a run that writes files must not pay
    for the previous run's writeback, nor the reader for the writer's. Nothing is deleted until the
    end: on a disk mounted with online discard, creating files is several times slower for seconds
    after a large delete (seen here: 300 files in 10 ms, then 160 ms after removing a few thousand)."""
    os.sync()
    return measure()


def settled_run(cmd: list[str], *, env: dict[str, str]) -> tuple[float, int]:
    os.sync()
    return run(cmd, env=env, sample_memory=True)


def interleaved(a: Callable[[], float], b: Callable[[], float], runs: int) -> tuple[float, float]:
    settled(a), settled(b)  # warm-up
    times_a, times_b = [], []
    for _ in range(runs):
        times_a.append(settled(a))
        times_b.append(settled(b))
    return statistics.median(times_a), statistics.median(times_b)


def fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b x: (a, b, r²)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    a = my - b * mx
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys, strict=True))
    ss_tot = sum((y - my) ** 2 for y in ys)
    return a, b, 1 - ss_res / ss_tot if ss_tot else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", default="6,25,50,100,200", help='shop sizes to grow; "" skips growth')
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument(
        "--work",
        type=Path,
        help="folder for the rendered trees (default: a new temp folder). On ext4, avoid one where many files "
        "were just deleted: new inodes skip recently deleted ones, which made file creation 15x slower here",
    )
    args = parser.parse_args()
    shopgen, kubectl, kvalidate = tool("shopgen"), tool("kubectl"), tool("kubernetes-validate")
    compile_bytecode()
    cold_env = {**os.environ, "SHOPGEN_NO_CACHE": "1"}
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="shopgen-bench-", dir=args.work))
    lines: list[str] = []
    try:
        rendered = work / "rendered"
        subprocess.run([shopgen, "synth", "--out", str(rendered)], check=True, stderr=subprocess.DEVNULL)
        from shopgen.story.stages import stage_names  # the one registry of stage names

        folders = [str(rendered / "environments" / s) for s in stage_names()]
        files = [str(p) for p in sorted((rendered / "environments").rglob("*.yaml")) if p.name != "kustomization.yaml"]

        def kustomize() -> float:
            start = time.perf_counter()
            for folder in folders:
                subprocess.run([kubectl, "kustomize", folder], check=True, stdout=subprocess.DEVNULL)
            return time.perf_counter() - start

        counter = iter(range(1_000_000))

        def cold() -> float:
            return run([shopgen, "synth", "--out", str(work / f"cold-{next(counter)}")], env=cold_env)[0]

        def rerun() -> float:
            return run([shopgen, "synth", "--out", str(rendered)])[0]

        def validate() -> float:
            return run([shopgen, "validate", "--all", "--crd-dir", str(CRD_DIR), "--out", str(rendered)])[0]

        def kubernetes_validate() -> float:
            return run([kvalidate, "--strict", "-k", "1.35.0", "--quiet", *files])[0]

        def diff() -> float:
            return run([shopgen, "diff", "baseline", "prestop", "--out", str(rendered)])[0]

        def simulate(jobs: str) -> Callable[[], float]:
            return lambda: run([shopgen, "simulate", "--all", "--jobs", jobs, "--out", str(rendered)])[0]

        rows = [
            ("synth, six stages, cold", *interleaved(cold, kustomize, args.runs), "kubectl kustomize x6"),
            ("simulate --all, 1 core", *interleaved(simulate("1"), cold, args.runs), "synth, six stages, cold"),
            (
                f"simulate --all, {os.cpu_count()} cores",
                *interleaved(simulate(str(os.cpu_count() or 1)), cold, args.runs),
                "synth, six stages, cold",
            ),
            ("synth, no-change rerun", *interleaved(rerun, kustomize, args.runs), "kubectl kustomize x6"),
            (
                f"validate --all ({len(files)} files)",
                *interleaved(validate, kubernetes_validate, args.runs),
                "kubernetes-validate --strict",
            ),
            ("diff baseline prestop", *interleaved(diff, kustomize, args.runs), "kubectl kustomize x6"),
        ]
        lines.append(f"| measurement ({args.runs} runs, medians) | shopgen s | peer | peer s | ratio |")
        lines.append("|---|---|---|---|---|")
        for label, mine, peer, peer_name in rows:
            lines.append(f"| {label} | {mine:.3f} | {peer_name} | {peer:.3f} | {mine / peer:.2f} |")

        _, simulate_peak = settled_run([shopgen, "simulate", "--all", "--out", str(rendered)], env=dict(os.environ))
        lines.append(f"\nsimulate --all peak memory (every process): {simulate_peak / 2**20:.0f} MiB")
        print("\n".join(lines), flush=True)
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        growth: list[tuple[int, float, int]] = []
        for services in sizes:
            cfg = work / f"shop-{services}.yaml"
            cfg.write_text(grown_shop(services))
            times, peaks = [], []
            for attempt in range(max(3, args.runs // 2)):
                out = work / f"grow-{services}-{attempt}"
                command = [shopgen, "synth", "--out", str(out), "--config", str(cfg)]
                elapsed, peak = settled_run(command, env=cold_env)
                times.append(elapsed)
                peaks.append(peak)
            growth.append((services, statistics.median(times), max(peaks)))
        if growth:
            lines += [
                "",
                "| app services | objects per stage | synth s, six stages (median) | peak MiB (Python + Node) |",
                "|---|---|---|---|",
            ]
            for services, seconds, peak in growth:
                lines.append(f"| {services} | ~{services * 4 + 20} | {seconds:.2f} | {peak / 2**20:.0f} |")
        fitted = fit([float(n) for n, _, _ in growth], [t for _, t, _ in growth]) if len(growth) > 1 else None
        if fitted:
            a, b, r2 = fitted
            lines.append("")
            lines.append(f"Fitted growth: {b * 1000:.1f} ms per app service + {a:.2f} s fixed (r² = {r2:.3f}).")
        report = "\n".join(lines) + "\n"
        print(report)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench.md").write_text(report)
        if not fitted:
            return
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("(no plot: install the bench extra for matplotlib)")
            return
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([n for n, _, _ in growth], [t for _, t, _ in growth], "o-", label="shopgen synth (6 stages)")
        ax.plot(sizes, [a + b * n for n in sizes], "--", label=f"fit: {b * 1000:.1f} ms/service")
        ax.set_xlabel("app services")
        ax.set_ylabel("seconds")
        ax.set_title("shopgen synth: time vs shop size")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.out / "scaling.png", dpi=120)
        print(f"plot: {args.out / 'scaling.png'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
