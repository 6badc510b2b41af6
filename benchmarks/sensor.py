"""Review sensor benchmark: one tick of `review_decisions_sensor` with 1,000,000 decisions in the table.

The table is filled in the server (INSERT ... SELECT generate_series, 100 writer transactions
so the rows carry many transaction ids, like real reviewers), then:

  first tick   the sensor's first tick on that whole history (no cursor): every decision read once,
               folded per video in the server
  tick         a steady-state tick: a few reviewers' decisions committed since the last tick, the
               real sensor function (connect, schema check, exactly-once read, run requests), median
               of `--ticks` ticks
  read         the exactly-once read alone on an open connection
  baselines    the same steady-state question answered naively, in the same run:
               (a) all rows: read every id and diff against the ids already applied in Python (the
                   simple design that also survives out-of-order commits)
               (b) no index: the sensor's own query with index scans disabled (a sequential scan)

Server: SHORTVID_DATABASE_URL when set, else an embedded PostgreSQL in a temporary folder. A fresh
database is created and dropped.

    .venv/bin/python benchmarks/sensor.py                    # 1,000,000 rows (about a minute)
    .venv/bin/python benchmarks/sensor.py --rows 100000      # a quicker run

The last output line is one JSON object with at least `rows` and `tick_ms` (goal: <= 100).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster as dg

from shortvid_assets.orchestration.jobs import review_status_job
from shortvid_assets.orchestration.sensors import build_review_decisions_sensor
from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.resources.review_db import ReviewDatabase
from shortvid_assets.storage import postgres, review_decisions

WRITER_TRANSACTIONS = 100
NEW_PER_TICK = 5


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def fill(conn, rows: int) -> float:
    """Insert `rows` decisions over 300 days x 20 themes in WRITER_TRANSACTIONS transactions; seconds taken."""
    started = time.perf_counter()
    per = max(1, rows // WRITER_TRANSACTIONS)
    done = 0
    while done < rows:
        n = min(per, rows - done)
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, video_path, decision, reviewer, note) "
                "SELECT DATE '2026-01-01' + (i %% 300), 'theme-' || (i %% 20), 'output/review/x.mp4', "
                "CASE WHEN i %% 3 = 0 THEN 'rejected' ELSE 'approved' END, 'reviewer-' || (i %% 7), NULL "
                "FROM generate_series(%s, %s) AS i",
                (done + 1, done + n),
            )
        conn.commit()
        done += n
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE review_decisions")
    conn.autocommit = False
    return time.perf_counter() - started


def add_new_decisions(conn, count: int) -> list[int]:
    """`count` reviewers' decisions, one transaction each, as between two ticks."""
    ids = []
    for i in range(count):
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO review_decisions (partition_date, theme, video_path, decision, reviewer) "
                "VALUES (DATE '2026-06-01' + %s, 'fresh', 'output/review/y.mp4', 'approved', 'maya') RETURNING id",
                (i,),
            )
            ids.append(cur.fetchone()[0])
        conn.commit()
    return ids


_INSTANCE: dg.DagsterInstance | None = None
_PATHS: ShortvidPaths | None = None
THEMES = [f"theme-{n}" for n in range(20)] + ["fresh"]


def _paths() -> ShortvidPaths:
    """The themes the benchmark's decisions name: the sensor sets aside decisions for unknown themes."""
    global _PATHS
    if _PATHS is None:
        folder = Path(tempfile.mkdtemp(prefix="svbench-themes-"))
        entry = (
            "\n  - slug: {slug}\n    product_name: Bench\n    tagline: A benchmark theme\n    audience: people\n"
            "    tone: calm\n    style: montage\n    talking_points: [one point]\n    target_duration_s: 6\n"
            "    hashtags: [bench, test]\n"
        )
        (folder / "themes.yaml").write_text("themes:" + "".join(entry.format(slug=s) for s in THEMES))
        _PATHS = ShortvidPaths(
            data_dir=str(folder / "data"),
            output_dir=str(folder / "output"),
            themes_file=str(folder / "themes.yaml"),
        )
    return _PATHS


def tick(url: str, cursor: str | None):
    """One evaluation of the real sensor, on one long-lived instance as the daemon has."""
    global _INSTANCE
    if _INSTANCE is None:  # without one, every context builds an ephemeral instance (~90 ms of alembic)
        _INSTANCE = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(
        instance=_INSTANCE, cursor=cursor, resources={"review_db": ReviewDatabase(url=url), "paths": _paths()}
    )
    started = time.perf_counter()
    result = build_review_decisions_sensor(review_status_job)(context)
    elapsed = time.perf_counter() - started
    next_cursor = result.cursor if isinstance(result, dg.SensorResult) else context.cursor
    requests = result.run_requests if isinstance(result, dg.SensorResult) else []
    return elapsed, next_cursor, requests


def run(url: str, rows: int, ticks: int) -> dict:
    name = f"svbench_{uuid.uuid4().hex[:12]}"
    db_url = postgres.create_database(url, name)
    try:
        conn = postgres.connect(db_url)
        try:
            review_decisions.ensure_schema(conn)
            print(f"filling review_decisions with {rows:,} rows ...", flush=True)
            fill_s = fill(conn, rows)
            print(f"  {fill_s:.1f} s", flush=True)

            # The first tick on the whole history (the run requests it would launch over several ticks).
            first_s, cursor, first_requests = tick(db_url, None)
            print(f"first tick on the whole history: {_ms(first_s)} ms, {len(first_requests)} run requests")
            pending = json.loads(cursor)["pending"]
            while pending:  # drain the queue the way later ticks would
                _, cursor, _ = tick(db_url, cursor)
                pending = json.loads(cursor)["pending"]

            tick_times, read_times, all_rows_times, seq_times = [], [], [], []
            applied = set()
            with conn.cursor() as cur:
                cur.execute("SELECT id FROM review_decisions")
                applied = {r[0] for r in cur.fetchall()}
            conn.rollback()
            read_conn = postgres.connect(db_url)
            read_cursor = json.loads(cursor)["read"]
            try:
                for _ in range(ticks):
                    new_ids = add_new_decisions(conn, NEW_PER_TICK)
                    # The sensor tick itself (new connection, schema check, read, run requests).
                    elapsed, cursor, requests = tick(db_url, cursor)
                    assert len(requests) == NEW_PER_TICK, requests
                    tick_times.append(elapsed)
                    # The same read alone, on an open connection (its own cursor, same rows).
                    started = time.perf_counter()
                    groups, read_cursor = review_decisions.read_new_partitions(read_conn, read_cursor)
                    read_times.append(time.perf_counter() - started)
                    assert sorted(i for g in groups for i in g.ids) == new_ids
                    # Baseline (a): every id, diffed against the applied set in Python.
                    started = time.perf_counter()
                    with conn.cursor() as cur:
                        cur.execute("SELECT id FROM review_decisions")
                        fresh = [r[0] for r in cur.fetchall() if r[0] not in applied]
                    conn.rollback()
                    all_rows_times.append(time.perf_counter() - started)
                    assert sorted(fresh) == new_ids
                    applied.update(fresh)
                    # Baseline (b): the sensor's own query without its index.
                    state = review_decisions.DecisionCursor.parse(read_cursor)
                    with conn.cursor() as cur:
                        cur.execute("SET LOCAL enable_indexscan = off")
                        cur.execute("SET LOCAL enable_bitmapscan = off")
                        cur.execute("SET LOCAL enable_indexonlyscan = off")
                        started = time.perf_counter()
                        cur.execute(
                            review_decisions.NEW_PARTITIONS_SQL, {"xmin": str(state.xmin), "seen": state.seen}
                        )
                        cur.fetchall()
                        seq_times.append(time.perf_counter() - started)
                    conn.rollback()
            finally:
                read_conn.close()
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM review_decisions")
                (total,) = cur.fetchone()
            conn.rollback()
        finally:
            conn.close()
    finally:
        postgres.drop_database(url, name)

    tick_sorted = sorted(tick_times)
    return {
        "rows": total,
        "tick_ms": _ms(statistics.median(tick_times)),
        "tick_p95_ms": _ms(tick_sorted[max(0, round(0.95 * len(tick_sorted)) - 1)]),
        "read_ms": _ms(statistics.median(read_times)),
        "first_tick_ms": _ms(first_s),
        "first_tick_run_requests": len(first_requests),
        "baseline_all_rows_ms": _ms(statistics.median(all_rows_times)),
        "baseline_no_index_ms": _ms(statistics.median(seq_times)),
        "new_decisions_per_tick": NEW_PER_TICK,
        "ticks": ticks,
        "fill_s": round(fill_s, 1),
        "goal_tick_ms": 100,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ticks", type=int, default=20)
    args = parser.parse_args()

    configured = os.environ.get("SHORTVID_DATABASE_URL", "").strip()
    root = None
    if configured:
        url, server = configured, postgres.describe_url(configured)
    else:
        root = Path(tempfile.mkdtemp(prefix="svbench-", dir="/tmp"))
        url, server = postgres.embedded_server_url(root / "pg"), "embedded"
    try:
        result = run(url, args.rows, args.ticks)
    finally:
        if root is not None:
            postgres.stop_embedded_server(root / "pg")
            shutil.rmtree(root, ignore_errors=True)
    result["server"] = server
    print(
        f"steady tick: {result['tick_ms']} ms (p95 {result['tick_p95_ms']}), read alone {result['read_ms']} ms; "
        f"baselines: all rows {result['baseline_all_rows_ms']} ms, no index {result['baseline_no_index_ms']} ms"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
