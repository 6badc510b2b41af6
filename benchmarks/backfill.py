"""Benchmark: a real asset backfill of D days x T themes through `dagster-daemon`, the run queue and an executor.

Every mode gets its own site on one throwaway PostgreSQL (the embedded server in a temporary folder,
stopped and deleted at the end; or `--server URL`'s server, with databases made and dropped): a Dagster
home with the project's dagster.yaml, a fresh instance and review database, data and output folders,
and T generated themes of `--duration` seconds. `shortvid backfill`'s planner submits the backfill
(each day's trends, then every day x theme video) and a real `dagster-daemon run` drives it through
the run queue (at most 3 backfill runs at once) within the pools, as in production.

  before   SHORTVID_EXECUTOR=spawn: Dagster's stock multiprocess executor, a fresh interpreter per step,
           the run queue's stock settings and `dagster-daemon run` (as shortvid ran until this benchmark)
  default  SHORTVID_EXECUTOR=auto (the default): a run's steps in its process (overlapping renders
           would get a process each); each run's process forked from a server in the daemon that has
           imported the code location once (SHORTVID_RUN_LAUNCH=fork); `shortvid daemon`, which
           looks at the backfill every 5 s
  grpc     the default with each run started by the code server in a fresh interpreter (Dagster's
           default launcher; SHORTVID_RUN_LAUNCH=grpc), not forked from the daemon's preloaded server
  loop30   the default under `dagster-daemon run`: Dagster's backfill loop of 30 s
  single   the default with one asset backfill for every day (as the UI makes), not one per day
  eager    the default, with every Python process importing pandas, matplotlib and the OpenAI SDK at
           start (a sitecustomize on PYTHONPATH), as loading the code location did before it went lazy
  celery   SHORTVID_EXECUTOR=celery with two `shortvid worker --concurrency 1` on the local Redis
  pool2    the default executor with SHORTVID_POOL_RENDER=2 and SHORTVID_VIDEO_THREADS=1: two
           single-threaded renders at once instead of one render on every core

Per mode it prints partitions (date x theme videos) per hour; backfill_vs_steps = backfill wall time /
the ideal time of the same steps' compute, max(sum of step times / usable parallelism, sum of render
step times / render pool limit), where usable parallelism is the machine's cores (or the Celery
workers' slots, if fewer): what orchestration adds on top of the work; each run's overhead (launch:
dequeued -> first step start; finish: last step end -> run end; their sum, median and p95) and its
wait in the queue; the gaps between a run's consecutive steps; the most render-pool steps ever
running at once; the instance storage's growth per partition (event-log rows, database bytes); and
how the overhead moves from the first third of the runs to the last.

    .venv/bin/python benchmarks/backfill.py                       # 6 days x 3 themes, 360x640, 6 s videos
    .venv/bin/python benchmarks/backfill.py --days 2 --themes 2   # a smoke test
    .venv/bin/python benchmarks/backfill.py --modes default,pool2 --size 720x1280 --duration 15

The last output line is one JSON object with the figures the README quotes.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import itertools
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402

from shortvid_assets.storage import postgres  # noqa: E402

MODES: dict[str, dict[str, str]] = {
    "before": {"SHORTVID_EXECUTOR": "spawn"},
    "default": {"SHORTVID_EXECUTOR": "auto"},
    "grpc": {"SHORTVID_EXECUTOR": "auto", "SHORTVID_RUN_LAUNCH": "grpc"},
    "eager": {"SHORTVID_EXECUTOR": "auto"},
    "single": {"SHORTVID_EXECUTOR": "auto"},
    "loop30": {"SHORTVID_EXECUTOR": "auto"},
    "celery": {"SHORTVID_EXECUTOR": "celery"},
    "pool2": {"SHORTVID_EXECUTOR": "auto", "SHORTVID_POOL_RENDER": "2", "SHORTVID_VIDEO_THREADS": "1"},
}
CELERY_WORKERS = 2
# What loading the code location imported until these libraries were imported by the steps that use them.
EAGER_IMPORTS = "import pandas, openai, matplotlib.figure, matplotlib.backends.backend_agg\n"
REDIS_DB = 14  # a database of its own on the machine's Redis, flushed before and after
RENDER_STEPS = {"scene_clips", "composed_video"}  # the steps in the render pool
# A run's launch, dequeued -> first step start, in the order its events are written.
LAUNCH_PHASES = {
    "daemon": ("RUN_DEQUEUED", "RUN_STARTING"),  # the queue's daemon picks the run up and calls the launcher
    "process": (
        "RUN_STARTING",
        "PROCESS_STARTED",
    ),  # the code server starts the run's process, which loads the run
    "run_start": ("PROCESS_STARTED", "RUN_START"),  # that process loads the job and plans it
    "first_step": ("RUN_START", "STEP_START"),  # the executor starts and the first step begins
}
STYLES = ("montage", "cinematic", "talking-head", "tutorial")
THEME = """
  - slug: bench{n}
    product_name: Bench {n}
    tagline: A benchmark product number {n}
    audience: people who measure things
    tone: brisk
    style: {style}
    talking_points: [fast to make, easy to count]
    target_duration_s: {duration}
    hashtags: [bench, test]
"""


def instance_config(mode: str) -> str:
    """The project's dagster.yaml; `before` without the run queue's settings (Dagster's: a look every 5 s)."""
    text = (ROOT / "dagster.yaml").read_text()
    if mode == "before":
        start = text.index("  # Look at the queue every second")
        end = text.index("    dequeue_use_threads: true\n") + len("    dequeue_use_threads: true\n")
        text = text[:start] + text[end:]
    return text


def themes_yaml(count: int, duration: float) -> str:
    return "themes:" + "".join(
        THEME.format(n=n, style=STYLES[n % len(STYLES)], duration=duration) for n in range(count)
    )


@contextlib.contextmanager
def throwaway_server(url: str | None) -> Iterator[str]:
    """The maintenance URL of a PostgreSQL server for this benchmark alone (or of `url`'s server)."""
    if url:
        yield url
        return
    root = Path(tempfile.mkdtemp(prefix="svbf-", dir="/tmp"))  # unix socket paths must stay short
    try:
        yield postgres.embedded_server_url(root / "pg")
    finally:
        postgres.stop_embedded_server(root / "pg")
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def database(server: str) -> Iterator[str]:
    name = f"svbf_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(server, name)
    try:
        yield url
    finally:
        postgres.drop_database(server, name)


@contextlib.contextmanager
def exported(env: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen, grace_s: float = 20.0) -> None:
    """SIGTERM the process group this benchmark started, then SIGKILL what is left of it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def wait_for(condition, timeout_s: float, what: str, poll_s: float = 1.0):
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)
    return value


def storage_size(url: str) -> tuple[int, int]:
    """(event-log rows, database bytes) of the instance storage."""
    conn = postgres.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from event_logs")
            rows = cur.fetchone()[0]
            cur.execute("select pg_database_size(current_database())")
            size = cur.fetchone()[0]
        return int(rows), int(size)
    finally:
        conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run_timeline(instance: dg.DagsterInstance, run_id: str) -> dict:
    """Times of one run's lifecycle events and its steps' windows, from the event log.

    Each attempt of a step is a window of its own: a retried step gives up its pool slot between
    attempts (STEP_UP_FOR_RETRY ends one, STEP_RESTARTED starts the next)."""
    marks: dict[str, float] = {}
    starts: dict[str, float] = {}
    steps: list[tuple[float, float, str]] = []
    retries = 0
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        if kind in {"STEP_START", "STEP_RESTARTED"}:
            starts[event.step_key] = record.timestamp
        elif kind in {"STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY"} and event.step_key in starts:
            steps.append((starts.pop(event.step_key), record.timestamp, event.step_key))
            retries += kind == "STEP_UP_FOR_RETRY"
        elif kind.startswith(("RUN_", "PIPELINE_")):  # run events keep their old PIPELINE_ values
            marks.setdefault(kind.replace("PIPELINE_", "RUN_"), record.timestamp)
        elif kind == "ENGINE_EVENT" and (event.message or "").startswith("Started process for run"):
            marks.setdefault("PROCESS_STARTED", record.timestamp)  # the run's process is up and has the run
    return {"marks": marks, "steps": sorted(steps), "retries": retries}


def _group(pairs) -> dict[str, list[float]]:
    grouped: dict[str, list[float]] = collections.defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return dict(grouped)


def max_overlap(windows: list[tuple[float, float, str]]) -> int:
    points = sorted([(s, 1) for s, _, _ in windows] + [(e, -1) for _, e, _ in windows])
    current = most = 0
    for _, delta in points:  # an end at the same instant as a start sorts first (-1 < 1)
        current += delta
        most = max(most, current)
    return most


def run_mode(mode: str, args: argparse.Namespace, server: str, scratch: Path) -> dict:
    from shortvid_assets.domain.themes import load_themes
    from shortvid_assets.partitions import theme_partitions
    from shortvid_assets.runtime.instance import apply_pool_limits
    from shortvid_assets.runtime.runner import launch_backfill, launch_daily_backfills, plan_backfill

    root = scratch / mode
    home = root / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(instance_config(mode))
    (root / "themes.yaml").write_text(themes_yaml(args.themes, args.duration))
    load_themes(root / "themes.yaml")  # a bad generated theme fails here, not in every run
    width, height = args.size.split("x")
    slugs = [f"bench{n}" for n in range(args.themes)]
    first = date.fromisoformat(args.start)
    days = [(first + timedelta(days=n)).isoformat() for n in range(args.days)]
    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    with database(server) as storage_url, database(server) as review_url:
        env = {
            "DAGSTER_HOME": str(home),
            "SHORTVID_HOME": str(root / "state"),
            "SHORTVID_DAGSTER_STORAGE_URL": storage_url,
            "SHORTVID_DATABASE_URL": review_url,
            "SHORTVID_DATA_DIR": str(root / "data"),
            "SHORTVID_OUTPUT_DIR": str(root / "output"),
            "SHORTVID_THEMES_FILE": str(root / "themes.yaml"),
            "SHORTVID_VIDEO_WIDTH": width,
            "SHORTVID_VIDEO_HEIGHT": height,
            "SHORTVID_CELERY_BROKER": broker,
            **MODES[mode],
        }
        for name in ("SHORTVID_VIDEO_SIZE", "SHORTVID_VIDEO_ASPECT"):
            os.environ.pop(name, None)
        process_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        if mode == "eager":
            (root / "eager").mkdir()
            (root / "eager" / "sitecustomize.py").write_text(EAGER_IMPORTS)
            process_env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(root / "eager"), os.environ.get("PYTHONPATH")])
            )
        processes: list[subprocess.Popen] = []
        with exported(env):
            instance = dg.DagsterInstance.from_config(str(home))
            try:
                instance.add_dynamic_partitions(theme_partitions.name, slugs)
                pools = apply_pool_limits(instance, env)
                if mode == "celery":
                    import redis

                    redis.Redis(db=REDIS_DB).flushdb()
                    for n in range(CELERY_WORKERS):
                        processes.append(
                            start(
                                [str(Path(sys.executable).with_name("shortvid")), "worker", "-c", "1",
                                 "-n", f"bench{n}-{uuid.uuid4().hex[:6]}@%h"],
                                process_env,
                                root / f"worker{n}.log",
                            )
                        )  # fmt: skip
                    for n, worker in enumerate(processes):
                        log = root / f"worker{n}.log"
                        wait_for(
                            lambda w=worker, log=log: w.poll() is not None or " ready." in log.read_text(errors="replace"),
                            180,
                            f"Celery worker {n} (log {log})",
                        )  # fmt: skip
                        if worker.poll() is not None:
                            raise SystemExit(f"Celery worker {n} exited:\n{log.read_text()[-2000:]}")
                daemon_started = time.time()
                stock_daemon = [
                    str(Path(sys.executable).with_name("dagster-daemon")),
                    "run",
                    "-w",
                    "workspace.yaml",
                ]
                daemon = start(
                    stock_daemon
                    if mode in {"before", "loop30"}
                    else [sys.executable, "-m", "shortvid_assets.cli", "daemon"],
                    process_env,
                    root / "daemon.log",
                )
                processes.append(daemon)
                wait_for(
                    lambda: (
                        daemon.poll() is not None
                        or all(
                            (beat := instance.get_daemon_heartbeats().get(name))
                            and beat.timestamp > daemon_started
                            for name in ("BACKFILL", "QUEUED_RUN_COORDINATOR")
                        )
                    ),
                    180,
                    f"the daemon's heartbeats (log {root / 'daemon.log'})",
                )
                if daemon.poll() is not None:
                    raise SystemExit(f"the daemon exited:\n{(root / 'daemon.log').read_text()[-3000:]}")

                rows_before, bytes_before = storage_size(storage_url)
                plan = plan_backfill(instance, days, slugs, scope="all")
                submitted = time.time()
                if mode in {"single", "before"}:
                    backfill_ids = [launch_backfill(instance, plan, title=f"benchmark {mode}")]
                else:
                    backfill_ids = launch_daily_backfills(instance, plan, title=f"benchmark {mode}")
                reported = None

                def backfill_runs() -> list[dg.DagsterRun]:
                    return [
                        run
                        for backfill_id in backfill_ids
                        for run in instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill_id))
                    ]

                def statuses() -> list[str]:
                    return [instance.get_backfill(backfill_id).status.value for backfill_id in backfill_ids]

                def ended():
                    nonlocal reported
                    runs = backfill_runs()
                    done = sum(r.is_finished for r in runs)
                    now = statuses()
                    line = f"  {mode}: {len(backfill_ids)} backfills {sorted(set(now))}, {done}/{len(runs)} runs finished"
                    if line != reported:
                        print(line, flush=True)
                        reported = line
                    return all(v.startswith("COMPLETED") or v in {"FAILED", "CANCELED"} for v in now)

                wait_for(ended, args.timeout, f"the {mode} backfill", poll_s=2.0)
                ended_as = statuses()
                status = next((v for v in ended_as if not v.startswith("COMPLETED")), ended_as[0])
                error = next((e for i in backfill_ids if (e := instance.get_backfill(i).error)), None)
                rows_after, bytes_after = storage_size(storage_url)
                runs = backfill_runs()
                records = {r.run_id: instance.get_run_record_by_id(r.run_id) for r in runs}
                timelines = {r.run_id: run_timeline(instance, r.run_id) for r in runs}
                failed_run = next((r for r in runs if r.status != dg.DagsterRunStatus.SUCCESS), None)
                failed_run_log = (
                    [
                        f"{e.dagster_event.event_type_value if e.dagster_event else 'LOG'}: {e.message}"
                        + (
                            f"\n{e.dagster_event.event_specific_data.error.to_string()}"
                            if e.dagster_event and getattr(e.dagster_event.event_specific_data, "error", None)
                            else ""
                        )
                        for e in instance.all_logs(failed_run.run_id)
                    ][-6:]
                    if failed_run
                    else []
                )
                workers_seen = set()
                if mode == "celery":
                    for run in runs:
                        for record in instance.all_logs(run.run_id):
                            event = record.dagster_event
                            if event and "in celery worker" in (event.message or ""):
                                data = event.engine_event_data.metadata
                                if "Celery worker" in data:
                                    workers_seen.add(data["Celery worker"].value)
            finally:
                for process in processes:
                    stop(process)
                instance.dispose()
                if mode == "celery":
                    import redis

                    redis.Redis(db=REDIS_DB).flushdb()

    failed = [r.run_id for r in runs if r.status != dg.DagsterRunStatus.SUCCESS]
    if failed or not status.startswith("COMPLETED"):
        detail = "\n".join(failed_run_log)[-3000:] or (
            error.to_string()[-3000:] if error else (root / "daemon.log").read_text()[-3000:]
        )
        raise SystemExit(f"{mode}: backfill {status}, failed runs {failed}:\n{detail}")
    video_partitions = args.days * args.themes
    first_queued = min(r.create_timestamp.timestamp() for r in records.values())
    finished = max(r.end_time for r in records.values())
    wall_s = finished - submitted
    steps = [w for t in timelines.values() for w in t["steps"]]
    step_s = sum(e - s for s, e, _ in steps)
    render_s = sum(e - s for s, e, k in steps if k in RENDER_STEPS)
    cores = os.cpu_count() or 1
    parallelism = min(cores, CELERY_WORKERS) if mode == "celery" else cores
    ideal_s = max(step_s / parallelism, render_s / pools["render"])
    launch, finish, overhead, queued, gaps, order = [], [], [], [], [], []
    phases: dict[str, list[float]] = {name: [] for name in LAUNCH_PHASES}
    for run_id, timeline in timelines.items():
        marks, windows = timeline["marks"], timeline["steps"]
        if not windows:
            continue
        dequeued = marks.get("RUN_DEQUEUED", marks.get("RUN_STARTING"))
        end = marks.get("RUN_SUCCESS", records[run_id].end_time)
        launch.append(windows[0][0] - dequeued)
        at = {**marks, "RUN_DEQUEUED": dequeued, "STEP_START": windows[0][0]}
        for name, (begin, end_mark) in LAUNCH_PHASES.items():
            if begin in at and end_mark in at:
                phases[name].append(at[end_mark] - at[begin])
        finish.append(end - max(e for _, e, _ in windows))
        overhead.append(launch[-1] + finish[-1])
        queued.append(dequeued - marks.get("RUN_ENQUEUED", records[run_id].create_timestamp.timestamp()))
        gaps += [b[0] - a[1] for a, b in itertools.pairwise(windows) if b[0] >= a[1]]
        order.append((dequeued, overhead[-1]))
    order.sort()
    third = max(1, len(order) // 3)
    early = statistics.median(o for _, o in order[:third])
    late = statistics.median(o for _, o in order[-third:])
    renders = [
        (start, end, f"{run_id[:8]}:{key}")
        for run_id, timeline in timelines.items()
        for start, end, key in timeline["steps"]
        if key in RENDER_STEPS
    ]
    # Where the render pool sat idle: before the first render, between renders, after the last one.
    in_order = sorted(renders)
    render_gaps = [b[0] - a[1] for a, b in itertools.pairwise(in_order) if b[0] > a[1]]
    if args.timeline:  # every run's lifecycle and steps, seconds after the submission
        for run_id, timeline in sorted(timelines.items(), key=lambda t: t[1]["marks"].get("RUN_ENQUEUED", 0)):
            marks = {
                k.removeprefix("RUN_").lower(): round(v - submitted, 1)
                for k, v in sorted(timeline["marks"].items(), key=lambda m: m[1])
            }
            print(f"  run {run_id[:8]} {marks}")
            for s, e, key in timeline["steps"]:
                print(f"      {key:16} {s - submitted:6.1f} -> {e - submitted:6.1f}")
    return {
        "mode": mode,
        "env": MODES[mode],
        "status": status,
        "runs": len(runs),
        # How the backfill split into runs: run count by the assets each run materialized.
        # Median seconds from a run's start to its end, by the assets it materialized.
        "run_s_median_by_assets": {
            assets: round(statistics.median(seconds), 1)
            for assets, seconds in _group(
                (
                    "+".join(sorted(k.to_user_string() for k in (r.asset_selection or ()))) or "(all)",
                    timelines[r.run_id]["marks"]["RUN_SUCCESS"] - timelines[r.run_id]["marks"]["RUN_START"],
                )
                for r in runs
                if {"RUN_START", "RUN_SUCCESS"} <= set(timelines[r.run_id]["marks"])
            ).items()
        },
        "runs_by_assets": dict(
            collections.Counter(
                "+".join(sorted(k.to_user_string() for k in (r.asset_selection or ()))) or "(all)"
                for r in runs
            )
        ),
        "video_partitions": video_partitions,
        "wall_s": round(wall_s, 1),
        "submit_to_first_run_s": round(first_queued - submitted, 1),
        "partitions_per_hour": round(video_partitions / wall_s * 3600, 1),
        "step_compute_s": round(step_s, 1),
        "render_step_s": round(render_s, 1),
        "usable_parallelism": parallelism,
        "render_pool": pools["render"],
        "ideal_s": round(ideal_s, 1),
        "backfill_vs_steps": round(wall_s / ideal_s, 3),
        "run_overhead_s_median": round(statistics.median(overhead), 2),
        "run_overhead_s_p95": round(percentile(overhead, 0.95), 2),
        "launch_s_median": round(statistics.median(launch), 2),
        "launch_s_p95": round(percentile(launch, 0.95), 2),
        "launch_phases_s_median": {n: round(statistics.median(v), 2) for n, v in phases.items() if v},
        "finish_s_median": round(statistics.median(finish), 2),
        "finish_s_p95": round(percentile(finish, 0.95), 2),
        "queue_wait_s_median": round(statistics.median(queued), 2),
        "step_gap_s_median": round(statistics.median(gaps), 2) if gaps else 0.0,
        "step_gap_s_p95": round(percentile(gaps, 0.95), 2) if gaps else 0.0,
        "overhead_first_third_s": round(early, 2),
        "overhead_last_third_s": round(late, 2),
        "max_concurrent_renders": max_overlap(renders),
        "step_retries": sum(t["retries"] for t in timelines.values()),
        # Render steps that ran at once (run:step, start and end after the submission), if any did.
        "overlapping_renders": [
            [
                a[2],
                round(a[0] - submitted, 2),
                round(a[1] - submitted, 2),
                b[2],
                round(b[0] - submitted, 2),
                round(b[1] - submitted, 2),
            ]
            for a, b in itertools.combinations(sorted(renders), 2)
            if b[0] < a[1]
        ],
        "render_pool_idle_s": {
            "before_first": round(in_order[0][0] - submitted, 1) if in_order else None,
            "between": round(sum(render_gaps), 1),
            "between_median": round(statistics.median(render_gaps), 2) if render_gaps else 0.0,
            "after_last": round(finished - in_order[-1][1], 1) if in_order else None,
        },
        "event_rows_per_partition": round((rows_after - rows_before) / video_partitions, 1),
        "storage_bytes_per_partition": round((bytes_after - bytes_before) / video_partitions),
        "celery_workers_used": len(workers_seen) if mode == "celery" else None,
    }


def show(result: dict) -> None:
    r = result
    print(
        f"\n[{r['mode']}] {r['env']}: {r['runs']} runs, {r['video_partitions']} video partitions, {r['status']}"
    )
    print(f"  runs by assets: {r['runs_by_assets']}")
    print(f"  run start -> end, median by assets: {r['run_s_median_by_assets']} s")
    print(f"  wall {r['wall_s']} s -> {r['partitions_per_hour']} partitions/hour")
    print(
        f"  steps' compute {r['step_compute_s']} s (renders {r['render_step_s']} s, pool {r['render_pool']}), "
        f"parallelism {r['usable_parallelism']}: ideal {r['ideal_s']} s; backfill_vs_steps "
        f"{r['backfill_vs_steps']} (goal <= 1.3)"
    )
    print(
        f"  run overhead median {r['run_overhead_s_median']} s, p95 {r['run_overhead_s_p95']} s (goal median <= 3): "
        f"launch {r['launch_s_median']}/{r['launch_s_p95']} s, finish {r['finish_s_median']}/{r['finish_s_p95']} s; "
        f"queue wait median {r['queue_wait_s_median']} s"
    )
    print(
        "  launch by phase, medians: "
        + ", ".join(f"{name} {seconds} s" for name, seconds in r["launch_phases_s_median"].items())
    )
    print(f"  gap between a run's steps: median {r['step_gap_s_median']} s, p95 {r['step_gap_s_p95']} s")
    print(
        f"  overhead first third of runs {r['overhead_first_third_s']} s, last third "
        f"{r['overhead_last_third_s']} s"
    )
    print(
        f"  most render-pool steps at once: {r['max_concurrent_renders']} (pool {r['render_pool']}); "
        f"step attempts retried: {r['step_retries']}"
    )
    for overlap in r["overlapping_renders"]:
        print(f"  renders at once: {overlap}")
    idle = r["render_pool_idle_s"]
    print(
        f"  render pool idle: {idle['before_first']} s before the first render, {idle['between']} s between "
        f"renders (median gap {idle['between_median']} s), {idle['after_last']} s after the last"
    )
    print(
        f"  instance storage per partition: {r['event_rows_per_partition']} event-log rows, "
        f"{r['storage_bytes_per_partition'] / 1e3:.0f} kB"
    )
    if r["celery_workers_used"] is not None:
        print(f"  Celery workers that ran steps: {r['celery_workers_used']} of {CELERY_WORKERS}")


ENCODER_LAYOUTS = {
    "one_render_all_threads": (1, "0"),  # render pool 1, every core to the one render (the default)
    "two_renders_one_thread": (2, "1"),  # render pool 2, SHORTVID_VIDEO_THREADS=1
    "two_renders_all_threads": (2, "0"),  # render pool 2, each render free to use every core
}


def encoder_check(size: str, duration: float, pairs: int, scratch: Path) -> dict:
    """Videos per hour from renders of the same spec, one at a time or two at once, by encoder threads.

    Each layout renders `pairs` x 2 videos (shortvid's render as benchmarks/render.py's variant b_proc,
    each in its own process); the layouts are interleaved so that the machine's other load spreads
    over all of them.
    """
    import importlib.util

    spec = importlib.util.spec_from_file_location("render_bench", ROOT / "benchmarks" / "render.py")
    render_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render_bench)
    width, height = (int(v) for v in size.split("x"))
    inputs = render_bench.prepare_inputs(scratch / "inputs", width, height, duration, "veryfast")
    spec_file = scratch / "inputs.json"
    spec_file.write_text(json.dumps(inputs))

    def render(n: int, threads: str) -> subprocess.Popen:
        out = scratch / f"out-{n}.mp4"
        out.unlink(missing_ok=True)
        command = [sys.executable, str(ROOT / "benchmarks" / "render.py"), "--run-one", "b_proc"]
        return subprocess.Popen(
            [*command, "--inputs", str(spec_file), "--out", str(out)],
            env={**os.environ, "SHORTVID_VIDEO_THREADS": threads},
            stdout=subprocess.DEVNULL,
        )

    seconds: dict[str, list[float]] = {name: [] for name in ENCODER_LAYOUTS}
    for repeat in range(pairs):
        names = list(ENCODER_LAYOUTS)
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
            at_once, threads = ENCODER_LAYOUTS[name]
            started = time.monotonic()
            for wave in range(2 // at_once):
                batch = [render(wave * at_once + k, threads) for k in range(at_once)]
                if any(p.wait() != 0 for p in batch):
                    raise SystemExit(f"a render of the encoder check failed ({name})")
            seconds[name].append(time.monotonic() - started)
    result = {}
    for name, values in seconds.items():
        per_two = statistics.median(values)
        result[name] = {
            "seconds_per_2_videos": round(per_two, 2),
            "videos_per_hour": round(2 / per_two * 3600),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--themes", type=int, default=3)
    parser.add_argument("--size", default="360x640", help="video size WIDTHxHEIGHT")
    parser.add_argument("--duration", type=float, default=6, help="each theme's target video length (s)")
    parser.add_argument("--start", default="2026-06-01", help="first day of the backfill")
    parser.add_argument("--modes", default="before,grpc,default,celery", help=f"any of {', '.join(MODES)}")
    parser.add_argument("--server", help="a PostgreSQL server URL; default a throwaway embedded one")
    parser.add_argument(
        "--encoder-check",
        action="store_true",
        help="also time two renders at once (one thread each) against one at a time (every core)",
    )
    parser.add_argument("--encoder-size", default="720x1280", help="video size of the encoder check")
    parser.add_argument(
        "--encoder-duration", type=float, default=15, help="video length of the encoder check (s)"
    )
    parser.add_argument("--encoder-pairs", type=int, default=3, help="repetitions of each encoder layout")
    parser.add_argument("--timeline", action="store_true", help="print every run's events and steps")
    parser.add_argument("--timeout", type=float, default=3600, help="longest wait for one backfill (s)")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if unknown := [m for m in modes if m not in MODES]:
        raise SystemExit(f"--modes: unknown {unknown}; use any of {', '.join(MODES)}")

    load_before = os.getloadavg()
    print(
        f"{args.days} days x {args.themes} themes at {args.size}, {args.duration:g} s videos; modes {modes}; "
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}); load {load_before[0]:.2f}"
    )
    results, failures = [], {}
    with throwaway_server(args.server) as server, tempfile.TemporaryDirectory(prefix="svbf-") as scratch:
        for mode in modes:
            try:
                results.append(run_mode(mode, args, server, Path(scratch)))
            except (Exception, SystemExit) as exc:  # report the other modes all the same
                print(f"\n[{mode}] FAILED: {exc}")
                failures[mode] = str(exc)[-500:]
                continue
            show(results[-1])
        encoders = None
        if args.encoder_check:
            folder = Path(scratch) / "encoder"
            folder.mkdir()
            encoders = encoder_check(args.encoder_size, args.encoder_duration, args.encoder_pairs, folder)
            print(f"\nencoder check, {args.encoder_size}, {args.encoder_duration:g} s videos, medians:")
            for name, figures in encoders.items():
                print(
                    f"  {name:24} {figures['seconds_per_2_videos']:7.2f} s per 2 videos "
                    f"-> {figures['videos_per_hour']} videos/hour"
                )
    load_after = os.getloadavg()
    by_mode = {r["mode"]: r for r in results}
    main_mode = by_mode.get("default") or (results[0] if results else {})
    summary = {
        "days": args.days,
        "themes": args.themes,
        "size": args.size,
        "duration_s": args.duration,
        "cores": os.cpu_count(),
        "load_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "backfill_vs_steps": main_mode.get("backfill_vs_steps"),
        "run_overhead_s_median": main_mode.get("run_overhead_s_median"),
        "max_concurrent_renders": max((r["max_concurrent_renders"] for r in results), default=None),
        **{f"partitions_per_hour_{m}": r["partitions_per_hour"] for m, r in by_mode.items()},
        "encoder_check": encoders,
        "failed_modes": failures,
        "modes": results,
    }
    print(f"\nload average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
