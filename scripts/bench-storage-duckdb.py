#!/usr/bin/env python3
"""DuckDB peer for the storage benchmark (BENCHMARKS.md, section "Storage engine").

Runs the benchmark queries over the same events as JSON lines and as zstd Parquet and
prints one JSON object with medians (ms) and answers, which `cargo bench -p
lookout-storage --bench storage` compares with its own.

usage: bench-storage-duckdb.py EVENTS.jsonl NEEDLE [--runs N] [--jsonl-runs N] [--formats parquet,jsonl]
"""
import os

from duckdb_peer import Corpus, parse_args

QUERIES = {
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


def main():
    a = parse_args(runs=10, jsonl_runs=3)
    corpus = Corpus(a.jsonl)
    out = corpus.header()
    out.update(
        parquet_bytes=os.path.getsize(corpus.parquet),
        jsonl_bytes=os.path.getsize(a.jsonl),
        parquet_convert_s=corpus.convert_s,
    )
    corpus.run(a, QUERIES, lambda name: [a.needle] if name == "needle" else [], out)


if __name__ == "__main__":
    main()
