#!/usr/bin/env python3
"""DuckDB peer for the Insights benchmark (BENCHMARKS.md, section "Insights queries").

Runs the five benchmark queries over the same events as JSON lines and as zstd Parquet and
prints one JSON object with medians (ms) and answers, which `cargo bench -p lookout-query
--bench query` compares with its own. The Parquet file is shared with the storage
benchmark's peer.

usage: bench-query-duckdb.py EVENTS.jsonl NEEDLE [--runs N] [--jsonl-runs N] [--formats parquet,jsonl]
"""
from duckdb_peer import Corpus, parse_args

# JSON fields come only from messages that are a JSON object, as Lookout discovers them.
def js(field):
    return ("CASE WHEN starts_with(message, '{') AND json_valid(message) "
            f"THEN json_extract_string(message, '$.{field}') END")


QUERIES = {
    # bin(5m) per 300,000 ms from the epoch.
    "bins": "SELECT timestamp // 300000 * 300000 AS b, count(*) FROM {src} GROUP BY b ORDER BY b",
    # @requestId exists on START/END/REPORT lines of Lambda groups.
    "needle": (
        "SELECT count(*) FROM {src} WHERE starts_with(logGroup, '/aws/lambda/') AND contains(message, ?) "
        "AND regexp_matches(message, '^(START|END|REPORT) RequestId: ' || ?)"
    ),
    "levels": "SELECT level, count(*) FROM (SELECT " + js("level") + " AS level FROM {src}) "
              "WHERE level IS NOT NULL GROUP BY level ORDER BY level",
    "top_errors": (
        "SELECT f, count(*) AS c FROM (SELECT " + js("level") + " AS level, "
        + js("function_name") + " AS f FROM {src}) WHERE level = 'ERROR' AND f IS NOT NULL "
        "GROUP BY f ORDER BY c DESC, f LIMIT 10"
    ),
    # Nearest-rank percentile, as Lookout's pct().
    "p95": (
        "WITH r AS (SELECT substr(logGroup, 13) AS g, "
        "CAST(regexp_extract(message, 'Duration: ([0-9.]+) ms', 1) AS DOUBLE) AS d FROM {src} "
        "WHERE starts_with(logGroup, '/aws/lambda/') AND starts_with(message, 'REPORT RequestId: ')), "
        "n AS (SELECT g, d, row_number() OVER (PARTITION BY g ORDER BY d) AS rn, count(*) OVER (PARTITION BY g) AS c FROM r) "
        "SELECT g, d FROM n WHERE rn = greatest(1, ceil(0.95 * c)) ORDER BY g"
    ),
}


def main():
    a = parse_args(runs=5, jsonl_runs=1)
    corpus = Corpus(a.jsonl)
    needle = lambda name: [a.needle, a.needle] if name == "needle" else []  # noqa: E731
    corpus.run(a, QUERIES, needle, corpus.header())


if __name__ == "__main__":
    main()
