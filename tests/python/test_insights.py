"""Logs Insights end to end: the shared corpus (tests/conformance/data/insights) loaded with
PutLogEvents into a real `lookout serve --max-event-age none`, every query run through boto3
StartQuery/GetQueryResults and compared per the corpus README; raw responses are checked
against botocore's model. Also `aws logs start-query` / `get-query-results` with both CLIs."""
import json
import pathlib
import subprocess
import time

import pytest

from conftest import client_for
from test_aws_cli import cli_env, versions
from test_boto3_api import check_shape

DATA = pathlib.Path(__file__).resolve().parents[1] / "conformance" / "data" / "insights"
DONE = {"Complete", "Failed", "Cancelled", "Timeout"}


def corpus(name):
    return [json.loads(l) for l in (DATA / name).read_text().splitlines() if l.strip()]


def load(logs):
    streams = {}
    for e in corpus("events.jsonl"):
        streams.setdefault((e["logGroup"], e["logStream"]), []).append(
            {"timestamp": e["timestamp"], "message": e["message"]})
    groups = set()
    for (group, stream), events in sorted(streams.items()):
        if group not in groups:
            logs.create_log_group(logGroupName=group)
            groups.add(group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        events.sort(key=lambda e: e["timestamp"])
        out = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        assert "rejectedLogEventsInfo" not in out


def same_value(want, got):
    """README rule 2: equal strings, or finite numbers within 1e-9 relative."""
    if want == got:
        return True
    try:
        w, g = float(want), float(got)
    except ValueError:
        return False
    return abs(w - g) <= 1e-9 * max(1.0, abs(w)) and w == w and abs(w) != float("inf")


def same_row(want, got):
    return want.keys() == got.keys() and all(same_value(v, got[k]) for k, v in want.items())


def rows_match(case, got):
    want = case.get("expected") or []
    if len(want) != len(got):
        return False
    if case.get("ordered"):
        return all(same_row(w, g) for w, g in zip(want, got))
    left = list(got)
    for w in want:
        hit = next((i for i, g in enumerate(left) if same_row(w, g)), None)
        if hit is None:
            return False
        left.pop(hit)
    return True


def wait(logs, query_id):
    deadline = time.time() + 60
    while time.time() < deadline:
        r = logs.get_query_results(queryId=query_id)
        if r["status"] in DONE:
            return r
        time.sleep(0.02)
    raise AssertionError(f"query {query_id} did not finish")


def run_case(logs, case):
    kwargs = {"startTime": case["start"], "endTime": case["end"], "queryString": case["query"]}
    if case["logGroups"]:
        kwargs["logGroupNames"] = case["logGroups"]
    compare = case.get("compare", "rows")
    if compare == "error":
        with pytest.raises(logs.exceptions.MalformedQueryException) as e:
            logs.start_query(**kwargs)
        loc = e.value.response.get("queryCompileError", {}).get("location", {})
        assert loc.get("endCharOffset", -1) >= loc.get("startCharOffset", 0) >= 0
        return
    r = wait(logs, logs.start_query(**kwargs)["queryId"])
    assert r["status"] == "Complete", r["status"]
    if compare == "accept":
        return
    got = []
    for row in r["results"]:
        fields = {f["field"]: f["value"] for f in row}
        ptr = fields.pop("@ptr", None)
        if ptr is not None:
            assert logs.get_log_record(logRecordPointer=ptr)["logRecord"]["@message"]
        got.append(fields)
    assert rows_match(case, got), f"want {case.get('expected')}\n got {got}"


def test_insights_corpus_boto3(server_factory, capsys):
    server = server_factory("--max-event-age", "none")
    logs = client_for(server.endpoint)
    checked = []

    def hook(http_response, parsed, model, **kwargs):
        if http_response.status_code == 200 and model.output_shape is not None:
            check_shape(model.output_shape, json.loads(http_response.content or b"{}"), model.name)
            checked.append(model.name)

    logs.meta.events.register("after-call.logs.*", hook)
    load(logs)
    cases = corpus("queries.jsonl")
    failed = []
    for case in cases:
        try:
            run_case(logs, case)
        except Exception as e:  # noqa: BLE001 - every failure is reported with its case id
            failed.append(f"{case['id']} {case['query']!r}: {e}")
    # Shown in the run's output even when the test passes (pytest captures it otherwise).
    with capsys.disabled():
        passed = len(cases) - len(failed)
        print(f"\nInsights corpus through boto3: {passed} passed, {len(failed)} failed")
    assert not failed, "\n".join(failed)
    assert len(cases) == 70
    for op in ("StartQuery", "GetQueryResults", "GetLogRecord"):
        assert op in checked

    described = logs.describe_queries(logGroupName="/app/gateway-access", maxResults=5)
    assert len(described["queries"]) == 5 and all(q["status"] == "Complete" for q in described["queries"])
    fields = logs.get_log_group_fields(logGroupName="/app/gateway-access", time=1716200000)
    names = {f["name"]: f["percent"] for f in fields["logGroupFields"]}
    assert names.get("@message") == 100 and "requestId" in names
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.start_query(logGroupName="/no/such", startTime=0, endTime=1, queryString="fields @message")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.stop_query(queryId=described["queries"][0]["queryId"])
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.get_log_record(logRecordPointer="not-a-pointer")


@pytest.mark.parametrize("base", versions())
def test_cli_start_query_and_results(base, server_factory, tmp_path):
    server = server_factory("--max-event-age", "none")
    env = cli_env(tmp_path)

    def aws(*args):
        r = subprocess.run([*base, "--endpoint-url", server.endpoint, "--output", "json", "logs", *args],
                           capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, f"aws logs {' '.join(args)}: {r.stderr}"
        return json.loads(r.stdout) if r.stdout.strip() else None

    aws("create-log-group", "--log-group-name", "/app/cli")
    aws("create-log-stream", "--log-group-name", "/app/cli", "--log-stream-name", "s")
    events = [{"timestamp": 1716200000000 + i, "message": json.dumps({"level": "ERROR" if i % 3 == 0 else "INFO"})}
              for i in range(9)]
    aws("put-log-events", "--log-group-name", "/app/cli", "--log-stream-name", "s", "--log-events", json.dumps(events))
    qid = aws("start-query", "--log-group-name", "/app/cli", "--start-time", "1716199999", "--end-time", "1716200001",
              "--query-string", "stats count(*) as n by level | sort level asc")["queryId"]
    deadline = time.time() + 60
    while True:
        r = aws("get-query-results", "--query-id", qid)
        if r["status"] in DONE or time.time() > deadline:
            break
        time.sleep(0.1)
    assert r["status"] == "Complete"
    rows = [{f["field"]: f["value"] for f in row} for row in r["results"]]
    assert rows == [{"level": "ERROR", "n": "3"}, {"level": "INFO", "n": "6"}]
    assert r["statistics"]["recordsScanned"] == 9


def test_partial_results_and_filter_index(server_factory):
    """While Running, GetQueryResults may already carry rows and counters (never above the
    final ones); filterIndex scans only groups indexed on its field (@logStream is, level is
    not, so that query scans no group)."""
    server = server_factory("--max-event-age", "none")
    logs = client_for(server.endpoint)
    logs.create_log_group(logGroupName="/app/partial")
    logs.create_log_stream(logGroupName="/app/partial", logStreamName="s")
    base = 1716200000000
    for batch in range(4):
        events = [{"timestamp": base + batch * 5000 + i,
                   "message": json.dumps({"level": "ERROR" if i % 4 == 0 else "INFO", "i": i})}
                  for i in range(5000)]
        logs.put_log_events(logGroupName="/app/partial", logStreamName="s", logEvents=events)
    kwargs = {"logGroupName": "/app/partial", "startTime": 1716199999, "endTime": 1716200100}
    qid = logs.start_query(queryString="stats count(*) as n by level", **kwargs)["queryId"]
    seen = []
    deadline = time.time() + 60
    while time.time() < deadline:
        r = logs.get_query_results(queryId=qid)
        if r["status"] in DONE:
            break
        assert r["status"] in {"Scheduled", "Running"}
        seen.append(r)
        time.sleep(0.005)
    assert r["status"] == "Complete"
    final = {row[0]["value"]: int(row[1]["value"]) for row in r["results"]}
    assert final == {"ERROR": 5000, "INFO": 15000}
    for partial in seen:
        stats = partial["statistics"]
        assert stats["recordsScanned"] <= r["statistics"]["recordsScanned"]
        for row in partial["results"]:
            fields = {f["field"]: f["value"] for f in row}
            assert int(fields["n"]) <= final[fields["level"]]

    def count(query):
        done = wait(logs, logs.start_query(queryString=query, **kwargs)["queryId"])
        assert done["status"] == "Complete"
        return done["results"][0][0]["value"], done["statistics"]

    n, stats = count('filterIndex level = "ERROR" | stats count(*) as n')
    assert n == "0" and stats["logGroupsScanned"] == 0 and stats["recordsScanned"] == 0
    n, stats = count('filterIndex @logStream = "s" | stats count(*) as n')
    assert n == "20000" and stats["logGroupsScanned"] == 1
    n, _ = count('filterIndex @logStream in ["t"] | stats count(*) as n')
    assert n == "0"
