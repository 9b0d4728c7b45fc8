"""Shared harness of the DuckDB peers (bench-storage-duckdb.py, bench-query-duckdb.py).

Both read the benchmark's events as newline-delimited JSON and as a zstd Parquet copy made
once beside it, time each query (one warm-up, then the median of N runs) and print the
medians with the answers as one JSON object for the Rust bench to compare.
"""
import argparse
import json
import os
import statistics
import time

import duckdb

COLUMNS = "{'logGroup': 'VARCHAR', 'logStream': 'VARCHAR', 'timestamp': 'BIGINT', 'message': 'VARCHAR'}"


def parse_args(runs, jsonl_runs):
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("needle")
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument("--jsonl-runs", type=int, default=jsonl_runs)
    ap.add_argument("--formats", default="parquet,jsonl", help="comma-separated subset")
    return ap.parse_args()


def timed(con, sql, params, runs):
    con.execute(sql, params).fetchall()  # warm-up: file cache, metadata
    times, rows = [], None
    for _ in range(runs):
        t = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), rows


class Corpus:
    """The events as DuckDB sources; the Parquet copy is written on first use."""

    def __init__(self, jsonl):
        self.jsonl = jsonl
        self.parquet = jsonl + ".zstd.parquet"
        self.con = duckdb.connect()
        self.src_json = f"read_json('{jsonl}', format='newline_delimited', columns={COLUMNS})"
        self.convert_s = None
        if not os.path.exists(self.parquet):
            t = time.perf_counter()
            self.con.execute(
                f"COPY (SELECT * FROM {self.src_json}) TO '{self.parquet}' (FORMAT parquet, COMPRESSION zstd)"
            )
            self.convert_s = time.perf_counter() - t

    def header(self):
        threads = self.con.execute("SELECT current_setting('threads')").fetchone()[0]
        return {"duckdb": duckdb.__version__, "threads": threads}

    def run(self, args, queries, params_for, out):
        """Times every query on each selected format into `out` and prints it as JSON."""
        formats = args.formats.split(",")
        sources = (
            ("parquet", f"read_parquet('{self.parquet}')", args.runs),
            ("jsonl", self.src_json, args.jsonl_runs),
        )
        for fmt, src, runs in sources:
            if fmt not in formats:
                continue
            for name, sql in queries.items():
                ms, rows = timed(self.con, sql.replace("{src}", src), params_for(name), runs)
                out[f"{fmt}_{name}_ms"] = ms
                out[f"{fmt}_{name}"] = [list(r) for r in rows]
        print(json.dumps(out, default=str))
