"""Crash safety, write faults, the lock and drift, proven with real child processes (SPEC §3, §5).

A child `shopgen` is killed with SIGKILL at every file operation of a small change and at a spread of
them for larger ones (tests/faults.py runs the CLI with a hook on every file operation), and at random moments.
After each kill the tree is the complete old state, or a journal is pending, `synth --check` says so,
and the next command completes it to exactly what a fresh render in a clean folder holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import TESTS, git, journal_of, run_cli, tree_bytes

# The real CLI behind a test-side entry point that can fail or kill it at one file operation.
SHOPGEN = [sys.executable, str(TESTS / "faults.py")]
LOCK = ".shopgen/lock"
# What a killed run may leave in the tree besides the old state: its lock (a dead holder's flock is
# gone, so the next run takes it over; it is in the rendered .shopgen/.gitignore). The journal and
# its temp file live outside the tree (journal_of).
RUNTIME_LEFTOVERS = {LOCK}
SEED = 20240611  # random kill timings are reproducible; the seed is in every failure message


def child(
    *args: str | Path, fault: str | None = None, count_to: Path | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`shopgen ARGS` in a child process, optionally with the writer's fault hook armed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGEN_FAULT")}
    if fault:
        env["SHOPGEN_FAULT"] = fault
    if count_to:
        env["SHOPGEN_FAULT_COUNT"] = str(count_to)
    return subprocess.run(
        [*SHOPGEN, *map(str, args)], env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def spawn(*args: str | Path, fault: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGEN_FAULT")}
    if fault:
        env["SHOPGEN_FAULT"] = fault
    return subprocess.Popen(
        [*SHOPGEN, *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a kill can take its git children too
    )


def operations(args: Sequence[str | Path], tmp: Path) -> int:
    """How many file operations a run makes (counted by the writer's tests-only hook)."""
    counter = tmp / "operations"
    result = child(*args, count_to=counter)
    assert result.returncode == 0, result.stderr
    return int(counter.read_text())


PARALLEL = min(4, (os.cpu_count() or 1) + 1)  # children mostly wait on Node and the disk


def killed_copies(
    base: Path, tmp_path: Path, args: Sequence[str], points: Sequence[int]
) -> list[tuple[int, Path, subprocess.CompletedProcess[str]]]:
    """For each kill point: a copy of ``base`` and a child `shopgen ARGS --out COPY` killed at that operation.

    The children run a few at a time (each works on its own copy); the checks that follow run in order.
    """

    def run(n: int) -> tuple[int, Path, subprocess.CompletedProcess[str]]:
        work = copy(base, tmp_path / f"kill-{n}")
        return n, work, child(*args, "--out", work, fault=f"kill:{n}")

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(run, points))


def settled(root: Path) -> dict[str, bytes]:
    """The tree without what a killed run may legitimately leave in .shopgen/ (see RUNTIME_LEFTOVERS)."""
    return {p: b for p, b in tree_bytes(root).items() if p not in RUNTIME_LEFTOVERS}


def stray_temp_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.tmp"))


def changed_paths(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    return sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p))


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def assert_killed_state(work: Path, old: dict[str, bytes], where: str, new: dict[str, bytes] | None = None) -> bool:
    """Right after a kill: the old tree, or a pending journal that `synth --check` reports. True if pending.

    With ``new``, the complete new tree is allowed too: a kill at a random moment can land after the
    run dropped its journal (its work done) and before the process exited.
    """
    if journal_of(work).exists():
        check = run_cli("synth", "--check", "--out", work)
        assert check.code == 1, f"{where}: synth --check with a pending journal exited {check.code}\n{check.err}"
        assert "an interrupted shopgen run is pending" in check.err, f"{where}: {check.err}"
        return True
    tree = settled(work)
    if new is not None and tree == new:
        assert stray_temp_files(work) == [], f"{where}: {stray_temp_files(work)}"
        return False
    assert tree == old, f"{where}: no journal, yet the tree changed: {changed_paths(tree, old)}"
    assert stray_temp_files(work) == [], f"{where}: {stray_temp_files(work)}"
    return False


# --- synth: killed at file operations ---------------------------------------------------------------

EDITS = {
    # a handful of updates: every operation is a kill point
    "update": "services:\n  ui:\n    prestop_sleep_seconds: 70\n",
    # updates and removals (External Secrets files leave every stage and terraform/)
    "remove": "secrets:\n  provider: none\n",
}


def _spread(count: int, inner: int, edge: int = 3) -> list[int]:
    """The first and last ``edge`` operations, and ``inner`` evenly spaced between them."""
    edges = {*range(1, edge + 1), *range(count - edge + 1, count + 1)}
    step = max(1, count // (inner + 1))
    return sorted(n for n in edges | set(range(step, count, step)[:inner]) if 1 <= n <= count)


@pytest.mark.parametrize("kind", ["update", "remove", "first-render"])
@pytest.mark.slow
def test_synth_killed_at_file_operations_leaves_old_tree_or_completes(kind: str, rendered: Path, tmp_path: Path):
    config = EDITS.get(kind)
    base = tmp_path / "base"
    if config is None:
        base.mkdir()
    else:
        copy(rendered, base)
        (base / "shopgen.yaml").write_text(config)
    old = tree_bytes(base)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    if config is not None:
        (fresh / "shopgen.yaml").write_text(config)
    assert run_cli("synth", "--out", fresh).code == 0
    expected = tree_bytes(fresh)

    count = operations(["synth", "--out", copy(base, tmp_path / "count")], tmp_path)
    points = list(range(1, count + 1)) if kind == "update" else _spread(count, 4)
    assert len(points) >= (count if kind == "update" else 10)
    pending = 0
    for n, work, killed in killed_copies(base, tmp_path, ["synth"], points):
        where = f"{kind}: kill at operation {n} of {count}"
        assert killed.returncode == -signal.SIGKILL, f"{where}: exited {killed.returncode}\n{killed.stderr}"
        pending += assert_killed_state(work, old, where)
        again = run_cli("synth", "--out", work)
        assert again.code == 0, f"{where}: the next synth failed\n{again.err}"
        assert tree_bytes(work) == expected, f"{where}: differs from a fresh render: " + ", ".join(
            changed_paths(tree_bytes(work), expected)[:10]
        )
        shutil.rmtree(work)
    # Only a kill before the journal is in place (operations 1-2) leaves the old tree.
    assert pending == len([n for n in points if n > 2])


@pytest.mark.slow
def test_synth_killed_at_random_moments(rendered: Path, tmp_path: Path):
    config = EDITS["remove"]
    base = copy(rendered, tmp_path / "base")
    (base / "shopgen.yaml").write_text(config)
    old = tree_bytes(base)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "shopgen.yaml").write_text(config)
    assert run_cli("synth", "--out", fresh).code == 0
    expected = tree_bytes(fresh)

    started = time.monotonic()
    assert child("synth", "--out", copy(base, tmp_path / "timed")).returncode == 0
    duration = time.monotonic() - started
    rng = random.Random(SEED)
    for i in range(4):
        delay = rng.uniform(0.3, 1.1) * duration
        work = copy(base, tmp_path / f"random-{i}")
        proc = spawn("synth", "--out", work)
        time.sleep(delay)
        proc.kill()
        proc.communicate()
        where = f"random kill {i} after {delay:.3f}s of ~{duration:.3f}s (seed {SEED}), exit {proc.returncode}"
        if proc.returncode == 0:
            assert tree_bytes(work) == expected, where
        else:
            assert proc.returncode == -signal.SIGKILL, where
            assert_killed_state(work, old, where, new=expected)
        assert run_cli("synth", "--out", work).code == 0, where
        assert tree_bytes(work) == expected, f"{where}: {changed_paths(tree_bytes(work), expected)[:10]}"


def test_interrupted_run_completes_even_when_the_config_went_back(rendered: Path, tmp_path: Path):
    """Roll forward first (the journal's new state), then the command's own render: the old config again."""
    work = copy(rendered, tmp_path / "work")
    (work / "shopgen.yaml").write_text(EDITS["remove"])
    killed = child("synth", "--out", work, fault="kill:20")
    assert killed.returncode == -signal.SIGKILL
    assert journal_of(work).exists()
    (work / "shopgen.yaml").unlink()
    assert run_cli("synth", "--check", "--out", work).code == 1  # still pending: --check never completes it
    result = run_cli("synth", "--out", work)
    assert result.code == 0, result.err
    assert tree_bytes(work) == tree_bytes(rendered)


def test_leftover_temp_file_is_never_written_through(rendered: Path, tmp_path: Path):
    """A temp file name planted as a symlink (or left by a kill) is replaced, never followed."""
    work = copy(rendered, tmp_path / "work")
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    target = work / "environments/prestop/ui/deployment-ui.yaml"
    (target.parent / ".deployment-ui.yaml.shopgen.tmp").symlink_to(victim)
    (work / ".shopgen/.generated.json.shopgen.tmp").symlink_to(victim)
    (work / "shopgen.yaml").write_text(EDITS["update"])
    result = run_cli("synth", "--out", work)
    assert result.code == 0, result.err
    assert victim.read_text() == "keep me\n"
    assert "sleep 70" in target.read_text()
    assert stray_temp_files(work) == []


# --- synth: faults at the write layer ----------------------------------------------------------------

CAUSES = {"enospc": "No space left on device", "eacces": "Permission denied", "erofs": "Read-only file system"}


def _dirs(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir()}


@pytest.mark.parametrize("scenario", ["first-render", "update"])
@pytest.mark.slow
def test_write_faults_exit_2_name_path_and_cause_and_change_nothing(scenario: str, rendered: Path, tmp_path: Path):
    base = tmp_path / "base"
    if scenario == "first-render":
        base.mkdir()
    else:
        copy(rendered, base)
        (base / "shopgen.yaml").write_text(EDITS["remove"])
    before, dirs = tree_bytes(base), _dirs(base)
    count = operations(["synth", "--out", copy(base, tmp_path / "count")], tmp_path)
    points = [1, 2, 3, count // 2, count - 2, count]  # journal temp, journal, first file, middle, record, cleanup
    for i, n in enumerate(points):
        kind = list(CAUSES)[(i + (scenario == "update")) % 3]
        work = copy(base, tmp_path / f"{kind}-{n}")
        result = child("synth", "--out", work, fault=f"{kind}:{n}")
        where = f"{scenario}: {kind} at operation {n} of {count}"
        assert result.returncode == 2, f"{where}: exit {result.returncode}\n{result.stderr}"
        lines = result.stderr.splitlines()
        assert lines[1:] == [f"  root: {work} (--out)"], f"{where}: {result.stderr}"  # one message, and where
        assert lines[0].startswith("shopgen: error: "), f"{where}: {result.stderr}"
        named = f"{work}/" in lines[0] or str(journal_of(work)) in lines[0]  # the journal comes first
        assert named and CAUSES[kind] in lines[0] and "nothing was changed" in lines[0], where
        assert tree_bytes(work) == before, f"{where}: {changed_paths(tree_bytes(work), before)[:10]}"
        assert _dirs(work) == dirs, f"{where}: folders {sorted(_dirs(work) ^ dirs)[:10]}"
        assert not journal_of(work).exists() and not (work / LOCK).exists() and stray_temp_files(work) == []
        assert list(journal_of(work).parent.glob("*.tmp")) == [], where
        shutil.rmtree(work)


# --- the lock ----------------------------------------------------------------------------------------

HOLD_LOCK = """
import sys, time
from pathlib import Path
from shopgen.output.writer import locked
with locked(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_running_shopgen_holds_the_lock_and_a_dead_one_does_not(rendered: Path, tmp_path: Path):
    work = copy(rendered, tmp_path / "work")
    (work / "shopgen.yaml").write_text(EDITS["update"])
    before = tree_bytes(work)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(work)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        blocked = run_cli("synth", "--out", work)
        assert blocked.code == 2
        assert blocked.err == (
            f"shopgen: error: another shopgen is running (pid {holder.pid}) on {work}; wait for it to finish\n"
            f"  root: {work} (--out)\n"
        )
        assert {p: b for p, b in tree_bytes(work).items() if p != LOCK} == {
            p: b for p, b in before.items() if p != LOCK
        }
        promote = run_cli("promote", "alb", "--no-commit", "--out", work)  # not a git repo: refused before the lock
        assert promote.code == 2
    finally:
        holder.kill()
        holder.wait()
    assert (work / LOCK).read_text().strip() == str(holder.pid)  # left behind by the killed holder
    taken = run_cli("synth", "--out", work)
    assert taken.code == 0, taken.err
    assert not (work / LOCK).exists()
    assert "sleep 70" in (work / "environments/prestop/ui/deployment-ui.yaml").read_text()


def test_lock_file_of_a_dead_pid_is_taken_over(rendered: Path, tmp_path: Path):
    work = copy(rendered, tmp_path / "work")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (work / LOCK).write_text(gone.stdout)
    (work / "shopgen.yaml").write_text(EDITS["update"])
    result = run_cli("synth", "--out", work)
    assert result.code == 0, result.err
    assert not (work / LOCK).exists()


RACE_FOR_LOCK = """
import os, sys, time
from pathlib import Path
from shopgen.errors import WriteError
from shopgen.output.writer import locked
root, start = Path(sys.argv[1]), float(sys.argv[2])
while time.time() < start:
    pass
try:
    with locked(root):
        mine = root / f"holder.{os.getpid()}"
        mine.touch()
        time.sleep(0.2)
        others = [p.name for p in root.glob("holder.*") if p != mine]
        mine.unlink()
        print("held", len(others))
except WriteError as exc:
    print("refused", "another shopgen is running" in str(exc))
"""


@pytest.mark.parametrize("stale", [False, True])
def test_processes_racing_for_the_lock_never_hold_it_together(tmp_path: Path, stale: bool):
    """Four processes at once, on a fresh folder or on a stale lock: at most one holds it at a time."""
    for trial in range(3):
        root = tmp_path / f"trial-{trial}"
        (root / ".shopgen").mkdir(parents=True)
        if stale:
            (root / LOCK).write_text("999999999\n")  # above pid_max: no such process
        start = time.time() + 1.0
        procs = [
            subprocess.Popen([sys.executable, "-c", RACE_FOR_LOCK, str(root), str(start)], stdout=subprocess.PIPE)
            for _ in range(4)
        ]
        outcomes = [p.communicate(timeout=60)[0].decode().split() for p in procs]
        assert all(o in (["held", "0"], ["refused", "True"]) for o in outcomes), (trial, outcomes)
        assert ["held", "0"] in outcomes, outcomes
        assert not (root / LOCK).exists()


def test_two_synth_runs_at_once_never_interleave(tmp_path: Path):
    config = EDITS["remove"]
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "shopgen.yaml").write_text(config)
    assert run_cli("synth", "--out", fresh).code == 0
    expected = tree_bytes(fresh)
    for trial in range(2):
        work = tmp_path / f"work-{trial}"
        work.mkdir()
        (work / "shopgen.yaml").write_text(config)
        procs = [spawn("synth", "--out", work) for _ in range(2)]
        results = [(p.returncode, err) for p in procs for _, err in [p.communicate(timeout=300)]]
        for code, err in results:
            assert code == 0 or (code == 2 and "another shopgen is running (pid " in err), (trial, code, err)
        assert any(code == 0 for code, _ in results)
        assert tree_bytes(work) == expected, (trial, changed_paths(tree_bytes(work), expected)[:10])


# --- promote: killed at file operations and during git -------------------------------------------


def _reference(repo: Path, tmp_path: Path, args: Sequence[str]) -> tuple[list[str], dict[str, bytes]]:
    """An uninterrupted promote in a copy: the commits it makes (oldest first) and the tree it leaves."""
    ref = copy(repo, tmp_path / "reference")
    result = run_cli(*args, "--out", ref)
    assert result.code == 0, result.err
    commits = git(ref, "rev-list", "--reverse", "HEAD").split()
    return commits, tree_bytes(ref)


def _stale_git_locks(work: Path) -> list[Path]:
    return [p for p in (work / ".git").rglob("*.lock") if p.is_file()]


def _assert_promote_finished(work: Path, commits: list[str], tree: dict[str, bytes], stage: str, where: str) -> None:
    assert git(work, "rev-list", "--reverse", "HEAD").split() == commits, f"{where}: history differs"
    message = git(work, "log", "-1", "--format=%B")
    assert message.rstrip().endswith(f"Shopgen-Stage: {stage}"), where
    assert json.loads((work / ".shopgen/state.json").read_text()) == {"active_stage": stage}, where
    assert git(work, "status", "--porcelain") == "", f"{where}: {git(work, 'status', '--porcelain')}"
    assert git(work, "diff", "--cached", "--name-only") == "", where
    assert tree_bytes(work) == tree, f"{where}: {changed_paths(tree_bytes(work), tree)[:10]}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "stage", "sample"),
    [(("promote", "readiness"), "readiness", None), (("promote", "prestop", "--through"), "prestop", 5)],
    ids=["one-stage", "through"],
)
def test_promote_killed_at_file_operations(
    repo: Path, tmp_path: Path, args: tuple[str, ...], stage: str, sample: int | None
):
    old = tree_bytes(repo)
    commits, tree = _reference(repo, tmp_path, args)  # [the render, then one commit per stage]
    count = operations([*args, "--out", copy(repo, tmp_path / "count")], tmp_path)
    points = list(range(1, count + 1)) if sample is None else _spread(count, sample, edge=1)
    for i, (n, work, killed) in enumerate(killed_copies(repo, tmp_path, args, points)):
        where = f"{' '.join(args)}: kill at operation {n} of {count}"
        assert killed.returncode == -signal.SIGKILL, f"{where}: {killed.returncode} {killed.stderr}"
        head = git(work, "rev-parse", "HEAD").strip()
        assert head in commits, f"{where}: HEAD {head} is neither the old nor a new commit"
        git(work, "status", "--porcelain")  # the index is usable
        if head == commits[0]:
            assert_killed_state(work, old, where)
        elif journal_of(work).exists():
            assert run_cli("synth", "--check", "--out", work).code == 1
        # Either command completes an interrupted promotion; promote then carries on to the target.
        if journal_of(work).exists() and i % 2 and sample is None:
            finish = run_cli("synth", "--out", work)
            assert finish.code == 0, f"{where}: {finish.err}"
            assert "completed an interrupted shopgen run" in finish.err, f"{where}: never silent: {finish.err}"
            assert not journal_of(work).exists()
        again = run_cli(*args, "--out", work)
        assert again.code == 0, f"{where}: {again.err}"
        _assert_promote_finished(work, commits, tree, stage, where)
        shutil.rmtree(work)


@pytest.mark.slow
def test_promote_killed_at_random_moments_with_its_git_children(repo: Path, tmp_path: Path):
    """SIGKILL to the whole process group, git included; a killed git may leave its own lock files."""
    args = ("promote", "readiness")
    commits, tree = _reference(repo, tmp_path, args)
    old_head, old = commits[0], tree_bytes(repo)
    # Time to the last file operation (the commit starts after it) and to the end: kills land around git.
    started = time.monotonic()
    assert child(*args, "--out", copy(repo, tmp_path / "timed-files"), fault="kill:8").returncode == -signal.SIGKILL
    to_commit = time.monotonic() - started
    started = time.monotonic()
    assert child(*args, "--out", copy(repo, tmp_path / "timed-all")).returncode == 0
    total = time.monotonic() - started
    rng = random.Random(SEED)
    for i in range(4):
        delay = rng.uniform(min(to_commit, total) * 0.9, total * 1.05)
        work = copy(repo, tmp_path / f"random-{i}")
        proc = spawn(*args, "--out", work)
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):  # the run may be over already
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        where = f"random kill {i} after {delay:.3f}s (commit from ~{to_commit:.3f}s, end ~{total:.3f}s, seed {SEED})"
        head = git(work, "rev-parse", "HEAD").strip()
        assert head in (old_head, commits[-1]), f"{where}: HEAD {head}"
        git(work, "status", "--porcelain")
        if head == old_head and not journal_of(work).exists():
            assert settled(work) == old, where
        locks = _stale_git_locks(work)
        if locks:
            # shopgen never deletes git's locks (only the user knows no git is running): it names them.
            refused = run_cli(*args, "--out", work)
            assert refused.code in (0, 2), f"{where}: {refused.err}"
            assert refused.code == 0 or ".lock" in refused.err, f"{where}: {refused.err}"
            for lock in locks:
                lock.unlink(missing_ok=True)
        again = run_cli(*args, "--out", work)
        assert again.code == 0, f"{where}: {again.err}"
        _assert_promote_finished(work, commits, tree, "readiness", where)


def test_index_lock_before_promote_is_named_and_nothing_changes(repo: Path):
    lock = repo / ".git/index.lock"
    lock.touch()
    before = (tree_bytes(repo), git(repo, "rev-parse", "HEAD"))
    result = run_cli("promote", "readiness", "--out", repo)
    assert result.code == 2
    assert result.err.startswith(f"shopgen: error: {lock}: exists: another git command is running")
    assert (tree_bytes(repo), git(repo, "rev-parse", "HEAD")) == before
    lock.unlink()
    assert run_cli("promote", "readiness", "--out", repo).code == 0


def test_commit_made_but_index_stale_is_finished_once_git_lets_go(repo: Path, tmp_path: Path):
    """Killed between update-ref and the index reset: HEAD is new, the user's index still holds the old files."""
    commits, tree = _reference(repo, tmp_path, ("promote", "readiness"))
    count = operations(["promote", "readiness", "--out", copy(repo, tmp_path / "count")], tmp_path)
    killed = child("promote", "readiness", "--out", repo, fault=f"kill:{count}")  # at clearing the journal
    assert killed.returncode == -signal.SIGKILL
    assert git(repo, "rev-parse", "HEAD").strip() == commits[-1]
    owned = git(repo, "diff-tree", "--no-commit-id", "-r", "--name-only", "HEAD").split()
    git(repo, "reset", "-q", "HEAD~1", "--", *owned)  # the index as it was before the commit's reset
    assert git(repo, "diff", "--cached", "--name-only").split() == owned
    lock = repo / ".git/index.lock"
    lock.touch()
    blocked = run_cli("synth", "--check", "--out", repo)
    assert blocked.code == 1 and "interrupted" in blocked.err
    refused = run_cli("promote", "readiness", "--out", repo)
    assert refused.code == 2
    assert "the commit is made, but the index still holds the old" in refused.err
    assert "remove .git/index.lock" in refused.err
    assert all(line.startswith("  ") for line in refused.err.splitlines()[1:]), refused.err
    assert journal_of(repo).exists()
    lock.unlink()
    assert run_cli("promote", "readiness", "--out", repo).code == 0
    _assert_promote_finished(repo, commits, tree, "readiness", "after removing index.lock")


def test_interrupted_promotion_commits_on_top_of_a_commit_made_since(repo: Path, tmp_path: Path):
    """HEAD moved after the kill, but not by shopgen: the promotion's commit is still made, on top."""
    count = operations(["promote", "readiness", "--out", copy(repo, tmp_path / "count")], tmp_path)
    old_head = git(repo, "rev-parse", "HEAD").strip()
    killed = child("promote", "readiness", "--out", repo, fault=f"kill:{count - 1}")  # files journalled, no commit
    assert killed.returncode == -signal.SIGKILL
    assert journal_of(repo).exists() and git(repo, "rev-parse", "HEAD").strip() == old_head
    (repo / "notes.txt").write_text("mine\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-qm", "notes")
    theirs = git(repo, "rev-parse", "HEAD").strip()
    result = run_cli("promote", "readiness", "--out", repo)
    assert result.code == 0, result.err
    assert "completed an interrupted shopgen run" in result.err and "committed its promotion" in result.err
    assert git(repo, "rev-parse", "HEAD~1").strip() == theirs
    assert git(repo, "log", "-1", "--format=%B").rstrip().endswith("Shopgen-Stage: readiness")
    changed = git(repo, "diff-tree", "--no-commit-id", "-r", "--name-only", "HEAD").split()
    assert ".shopgen/state.json" in changed and "argocd/application-shop.yaml" in changed
    assert git(repo, "status", "--porcelain") == ""


# --- drift: hand edits --------------------------------------------------------------------------------


def test_hand_edit_is_named_by_check_validate_and_promote_and_replaced_only_with_force(repo: Path):
    edited = {
        "environments/baseline/ui/service-ui.yaml": ("port: 80", "port: 81"),
        "terraform/vpc.tf": ("single_nat_gateway", "one_nat_gateway_per_az = false\n  single_nat_gateway"),
        # a file the next config removes: a hand edit there is kept too, not deleted
        "environments/prestop/catalog/externalsecret-catalog-db.yaml": ("refreshInterval", "# mine\n  refreshInterval"),
    }
    for rel, (old, new) in edited.items():
        path = repo / rel
        assert old in path.read_text(), rel
        path.write_text(path.read_text().replace(old, new, 1))
    git(repo, "commit", "-qam", "hand edits")
    (repo / "shopgen.yaml").write_text(EDITS["remove"])
    git(repo, "add", "shopgen.yaml")
    git(repo, "commit", "-qm", "config")
    snapshot = tree_bytes(repo)

    check = run_cli("synth", "--check", "--out", repo)
    assert check.code == 1
    for rel in edited:
        assert f"hand edit {rel}" in check.err, (rel, check.err[-2000:])
    validate = run_cli("validate", "--out", repo)
    assert validate.code == 1
    drift = [line for line in validate.out.splitlines() if "drift.hand-edit" in line]
    assert all(any(rel in line for line in drift) for rel in edited), drift
    promote = run_cli("promote", "readiness", "--out", repo)
    assert promote.code == 2 and "edited by hand" in promote.err
    assert all(f"  {rel}" in promote.err.splitlines() for rel in edited), promote.err
    assert tree_bytes(repo) == snapshot

    kept = run_cli("synth", "--out", repo)
    assert kept.code == 1
    assert all(f"  {rel}" in kept.err.splitlines() for rel in edited), kept.err
    assert all(new in (repo / rel).read_text() for rel, (_, new) in edited.items())
    # --force replaces the hand edit of a file the render holds; it never deletes one it no longer renders.
    stale = "environments/prestop/catalog/externalsecret-catalog-db.yaml"
    forced = run_cli("synth", "--force", "--out", repo)
    assert forced.code == 1, forced.err
    for rel in edited:
        assert (f"replaced (--force): {rel}" in forced.err) == (rel != stale), forced.err
    assert "kept: edited by hand and no longer rendered" in forced.err and f"  {stale}" in forced.err.splitlines()
    assert edited[stale][1] in (repo / stale).read_text()
    assert "port: 80" in (repo / "environments/baseline/ui/service-ui.yaml").read_text()
    assert run_cli("synth", "--check", "--out", repo).code == 1  # until the user decides
    git(repo, "rm", "-q", stale)
    assert run_cli("synth", "--out", repo).code == 0  # drops the deleted file from generated.json
    assert run_cli("synth", "--check", "--out", repo).code == 0
    assert "drift.hand-edit" not in run_cli("validate", "--out", repo).out


# --- faults while removing and while undoing ----------------------------------------------------------


def _operation_paths(args: Sequence[str | Path], tmp: Path) -> list[str]:
    """The path of each file operation of a run, in order (the writer's tests-only log)."""
    log = tmp / "operation-paths"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGEN_FAULT")}
    env["SHOPGEN_FAULT_LOG"] = str(log)
    result = subprocess.run([*SHOPGEN, *map(str, args)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def test_an_emptied_folder_that_cannot_be_removed_is_named_and_nothing_changes(rendered: Path, tmp_path: Path):
    """Removing platform/'s only file empties the folder; a failing rmdir is exit 2 naming it, not a crash."""
    base = copy(rendered, tmp_path / "base")
    (base / "shopgen.yaml").write_text(EDITS["remove"])
    probe = copy(base, tmp_path / "probe")
    paths = _operation_paths(["synth", "--out", probe], tmp_path)
    at = paths.index(str(probe / "platform")) + 1
    work = copy(base, tmp_path / "work")
    before = tree_bytes(work)
    result = child("synth", "--out", work, fault=f"eacces:{at}")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"shopgen: error: {work / 'platform'}: cannot remove the emptied folder")
    assert "Permission denied" in result.stderr and "nothing was changed" in result.stderr
    assert tree_bytes(work) == before and not journal_of(work).exists()


def test_a_full_disk_during_undo_is_completed_by_the_next_run(rendered: Path, tmp_path: Path):
    base = copy(rendered, tmp_path / "base")
    (base / "shopgen.yaml").write_text(EDITS["remove"])
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "shopgen.yaml").write_text(EDITS["remove"])
    assert run_cli("synth", "--out", fresh).code == 0
    count = operations(["synth", "--out", copy(base, tmp_path / "count")], tmp_path)
    work = copy(base, tmp_path / "work")
    result = child("synth", "--out", work, fault=f"enospc:{count // 2}+")  # the disk stays full
    assert result.returncode == 2, result.stderr
    assert "undoing the run failed too" in result.stderr and "the next shopgen run completes it" in result.stderr
    assert journal_of(work).exists()
    assert run_cli("synth", "--check", "--out", work).code == 1  # a mixed tree is reported, never passed
    again = run_cli("synth", "--out", work)
    assert again.code == 0, again.err
    assert "completed an interrupted shopgen run" in again.err
    assert tree_bytes(work) == tree_bytes(fresh)
