#!/usr/bin/env python3
"""DuckDB peer for the storage benchmark (BENCHMARKS.md, section "Storage engine").

Runs the benchmark queries over the same events as JSON lines and as zstd Parquet and
prints one JSON object with medians (ms) and answers, which `cargo bench -p
lookout-storage --bench storage` compares with its own.

usage: bench-storage-duckdb.py EVENTS.jsonl NEEDLE [--runs N] [--jsonl-runs N] [--formats parquet,jsonl]
"""
import argparse
import json
import os
import statistics
import time

import duckdb


def timed(con, sql, params, runs):
    con.execute(sql, params).fetchall()  # warm-up: file cache, metadata
    times, rows = [], None
    for _ in range(runs):
        t = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("needle")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--jsonl-runs", type=int, default=3)
    ap.add_argument("--formats", default="parquet,jsonl", help="comma-separated subset")
    a = ap.parse_args()
    parquet = a.jsonl + ".zstd.parquet"
    con = duckdb.connect()
    cols = "{'logGroup': 'VARCHAR', 'logStream': 'VARCHAR', 'timestamp': 'BIGINT', 'message': 'VARCHAR'}"
    src_json = f"read_json('{a.jsonl}', format='newline_delimited', columns={cols})"
    if not os.path.exists(parquet):
        t = time.perf_counter()
        con.execute(f"COPY (SELECT * FROM {src_json}) TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)")
        convert_s = time.perf_counter() - t
    else:
        convert_s = None
    src_parquet = f"read_parquet('{parquet}')"
    queries = {
        "needle": "SELECT count(*) FROM {src} WHERE contains(message, ?)",
        "bins": "SELECT timestamp // 300000 AS b, count(*) FROM {src} GROUP BY b ORDER BY b",
        "top10": (
            # CASE keeps DuckDB from parsing plain-text lines as JSON (it raises on them).
            "SELECT rid, count(*) AS c FROM (SELECT "
            "CASE WHEN json_valid(message) THEN json_extract_string(message, '$.level') END AS level, "
            "CASE WHEN json_valid(message) THEN json_extract_string(message, '$.function_request_id') END AS rid "
            "FROM {src}) WHERE level = 'ERROR' AND rid IS NOT NULL "
            "GROUP BY rid ORDER BY c DESC, rid LIMIT 10"
        ),
    }
    out = {
        "duckdb": duckdb.__version__,
        "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
        "parquet_bytes": os.path.getsize(parquet),
        "jsonl_bytes": os.path.getsize(a.jsonl),
        "parquet_convert_s": convert_s,
    }
    formats = a.formats.split(",")
    for fmt, src, runs in (("parquet", src_parquet, a.runs), ("jsonl", src_json, a.jsonl_runs)):
        if fmt not in formats:
            continue
        for name, sql in queries.items():
            params = [a.needle] if name == "needle" else []
            ms, rows = timed(con, sql.format(src=src), params, runs)
            out[f"{fmt}_{name}_ms"] = ms
            out[f"{fmt}_{name}"] = [list(r) for r in rows]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
