#!/usr/bin/env python3
"""Filter-pattern peer benchmark: moto's matcher (moto.logs) against lookout-filter.

Run after `nice -n 10 cargo bench -p lookout-filter --bench filter`, which writes
bench-data/filter-events.jsonl (the 1M generator messages), bench-data/filter-counts.json
(lookout's match counts) and criterion's estimates under target/criterion/filter/.

For each pattern of crates/filter/benches/patterns.jsonl this script
  - times moto's `EventMessageFilter(pattern).matches(message)` over the same messages
    (the filter object is built once per pattern, which favours moto: moto itself builds
    one per event),
  - recomputes the right answer with an independent Python reference of the spec's semantics
    and checks lookout's count against it (exit status 1 on a mismatch),
  - prints MB/s of message on one core for lookout, moto and the Python reference, and the
    ratios. moto treats every pattern that does not start with a letter or `"` as
    match-all (it returns True without looking), so its speed on those rows is the cost of
    a wrong answer; the reference column is the fair "correct Python" peer.
It also scores moto on the conformance corpus (tests/conformance/data/filter-patterns.jsonl).

Needs: pip install moto
"""

import json
import re
import statistics
import sys
import time
from pathlib import Path

from moto.logs.utils import EventMessageFilter

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3


def load_messages():
    with open(ROOT / "bench-data" / "filter-events.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def json_doc(message):
    if not message.lstrip().startswith("{"):
        return None
    try:
        doc = json.loads(message)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def fields(message):
    return message.split()


def report_duration_over(message, limit):
    f = fields(message)
    if len(f) < 5 or f[0] != "REPORT":
        return False
    try:
        return float(f[4]) > limit
    except ValueError:
        return False


REGEX = re.compile(r"Task timed out after|^REPORT\s.+\sStatus: timeout")

with open(ROOT / "crates/filter/benches/patterns.jsonl", encoding="utf-8") as f:
    SPECS = [json.loads(line) for line in f if line.strip()]

# The planted request id changes with the generator; the bench checks that the pattern holds
# the manifest's id, so the reference takes it from the pattern (a quoted phrase).
REQUEST_ID = next(s["pattern"].strip('"') for s in SPECS if s["name"] == "term_request_id")

# Independent reference semantics for the benchmark patterns (spec/filter-patterns.md).
REFERENCE = {
    "term": lambda m: "Zyzzogeton" in m,
    "term_request_id": lambda m: REQUEST_ID in m,
    "or_terms": lambda m: "ERROR" in m or "WARN" in m,
    "json_eq": lambda m: (d := json_doc(m)) is not None and d.get("level") == "ERROR",
    "json_eq_common": lambda m: (d := json_doc(m)) is not None and d.get("level") == "INFO",
    "json_num": lambda m: (d := json_doc(m)) is not None
    and is_num(d.get("duration_ms"))
    and d["duration_ms"] > 1000,
    "json_and": lambda m: (d := json_doc(m)) is not None
    and d.get("service") == "payments"
    and is_num(d.get("status_code"))
    and d["status_code"] >= 500,
    "space": lambda m: report_duration_over(m, 1000),
    "regex": lambda m: REGEX.search(m) is not None,
}


def moto_time(pattern, messages):
    filt = EventMessageFilter(pattern)
    matches = filt.matches
    times = []
    count = 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        count = sum(1 for m in messages if matches(m))
        times.append(time.perf_counter() - start)
    return statistics.median(times), count


def criterion_median_s(name):
    path = ROOT / "target" / "criterion" / "filter" / name / "new" / "estimates.json"
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)["median"]["point_estimate"] / 1e9
    except OSError:
        return None


def moto_conformance():
    passed = failed = 0
    with open(ROOT / "tests/conformance/data/filter-patterns.jsonl", encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            try:
                got = EventMessageFilter(case["pattern"]).matches(case["message"])
                ok = not case.get("error") and got == case["match"]
            except Exception:  # moto rejecting a pattern counts only for error cases
                ok = bool(case.get("error"))
            passed += ok
            failed += not ok
    return passed, failed


def main():
    messages = load_messages()
    total = sum(len(m.encode("utf-8")) for m in messages)
    with open(ROOT / "bench-data" / "filter-counts.json", encoding="utf-8") as f:
        ours = json.load(f)
    if ours["bytes"] != total or ours["events"] != len(messages):
        sys.exit("bench-data is stale: rerun the cargo bench first")
    specs = SPECS

    print(f"{len(messages)} events, {total / 1e6:.1f} MB of message")
    print(
        "| pattern | kind | lookout MB/s | moto MB/s | lookout/moto | Python reference MB/s "
        "| lookout/reference | matches (lookout / reference / moto) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|")
    bad = False
    for spec in specs:
        name, pattern = spec["name"], spec["pattern"]
        ref = REFERENCE[name]
        start = time.perf_counter()
        reference = sum(1 for m in messages if ref(m))
        ref_s = time.perf_counter() - start
        moto_s, moto_count = moto_time(pattern, messages)
        ours_s = criterion_median_s(name)
        ours_count = ours["counts"][name]
        if ours_count != reference:
            bad = True
        ours_mbs = total / ours_s / 1e6 if ours_s else float("nan")
        moto_mbs = total / moto_s / 1e6
        ratio = moto_s / ours_s if ours_s else float("nan")
        ref_mbs = total / ref_s / 1e6
        ref_ratio = ref_s / ours_s if ours_s else float("nan")
        flag = "" if ours_count == reference else " MISMATCH"
        wrong = "" if moto_count == reference else " (wrong)"
        print(
            f"| `{name}` | {spec['kind']}: `{pattern}` | {ours_mbs:,.0f} | {moto_mbs:,.0f}{wrong} "
            f"| {ratio:,.1f}x | {ref_mbs:,.0f} | {ref_ratio:,.0f}x "
            f"| {ours_count} / {reference} / {moto_count}{flag} |"
        )
    passed, failed = moto_conformance()
    print(f"moto conformance: {passed} passed, {failed} failed ({100 * passed / (passed + failed):.1f}%)")
    if bad:
        sys.exit("lookout's counts disagree with the reference")


if __name__ == "__main__":
    main()
