"""boto3 against a real `lookout serve`: every operation served, paginators, errors.

Each raw response body is also checked against botocore's service model for `logs`
(`model_check` fixture): unknown members, wrong types and missing required members fail.
"""
import json
import time

import botocore.exceptions
import pytest

from conftest import client_for


def check_shape(shape, value, path="$"):
    """Raises AssertionError where `value` (parsed JSON) does not fit the botocore shape."""
    t = shape.type_name
    if t == "structure":
        assert isinstance(value, dict), f"{path}: expected object, got {value!r}"
        for name in shape.required_members:
            assert name in value, f"{path}: required member {name} missing"
        for k, v in value.items():
            assert k in shape.members, f"{path}: unknown member {k}"
            check_shape(shape.members[k], v, f"{path}.{k}")
    elif t == "list":
        assert isinstance(value, list), f"{path}: expected list"
        for i, v in enumerate(value):
            check_shape(shape.member, v, f"{path}[{i}]")
    elif t == "map":
        assert isinstance(value, dict), f"{path}: expected map"
        for k, v in value.items():
            check_shape(shape.key, k, f"{path}.<key>")
            check_shape(shape.value, v, f"{path}.{k}")
    elif t == "string":
        assert isinstance(value, str), f"{path}: expected string, got {value!r}"
        if "enum" in shape.metadata:
            assert value in shape.metadata["enum"], f"{path}: {value!r} not in enum"
    elif t in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: expected integer, got {value!r}"
    elif t == "boolean":
        assert isinstance(value, bool), f"{path}: expected boolean"
    elif t in ("double", "float"):
        assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{path}: expected number"
    elif t == "timestamp":
        assert isinstance(value, (int, float)), f"{path}: expected epoch number"


@pytest.fixture
def model_check(logs):
    """Validates every successful raw response of `logs` against its output shape."""
    checked = []

    def hook(http_response, parsed, model, **kwargs):
        if http_response.status_code != 200:
            return
        body = http_response.content
        if model.output_shape is None:
            assert body in (b"", b"{}"), f"{model.name}: expected an empty body, got {body[:100]!r}"
        else:
            check_shape(model.output_shape, json.loads(body or b"{}"), model.name)
        checked.append(model.name)

    logs.meta.events.register("after-call.logs.*", hook)
    return checked


def now_ms():
    return int(time.time() * 1000)


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_log_groups_lifecycle(logs, model_check):
    for i in range(60):
        logs.create_log_group(logGroupName=f"/aws/lambda/fn-{i:02d}")
    logs.create_log_group(logGroupName="/app/api", tags={"team": "core"}, kmsKeyId="arn:aws:kms:us-east-1:000000000000:key/k")
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName="/app/api")

    pages = list(logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 7}))
    names = [g["logGroupName"] for p in pages for g in p["logGroups"]]
    assert names == sorted(names) and len(names) == 61 and len(pages) == 9
    assert "nextToken" not in pages[-1]

    first = logs.describe_log_groups(logGroupNamePrefix="/app/")["logGroups"]
    assert [g["logGroupName"] for g in first] == ["/app/api"]
    g = first[0]
    assert g["arn"].endswith(":log-group:/app/api:*") and g["logGroupArn"].endswith(":log-group:/app/api")
    assert g["kmsKeyId"] == "arn:aws:kms:us-east-1:000000000000:key/k"
    assert "retentionInDays" not in g

    by_pattern = logs.describe_log_groups(logGroupNamePattern="fn-1")["logGroups"]
    assert [x["logGroupName"] for x in by_pattern] == [f"/aws/lambda/fn-1{i}" for i in range(10)]
    assert set(by_pattern[0]) == {"logGroupName", "arn", "creationTime"}

    logs.put_retention_policy(logGroupName="/app/api", retentionInDays=30)
    assert logs.describe_log_groups(logGroupNamePrefix="/app/api")["logGroups"][0]["retentionInDays"] == 30
    logs.delete_retention_policy(logGroupName="/app/api")
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix="/app/api")["logGroups"][0]
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.put_retention_policy(logGroupName="/app/api", retentionInDays=2)
    assert "Member must satisfy enum value set: [1, 3, 5, 7, 14" in str(e.value)

    logs.delete_log_group(logGroupName="/app/api")
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as e:
        logs.delete_log_group(logGroupName="/app/api")
    assert e.value.response["Error"]["Message"] == "The specified log group does not exist."
    assert {"CreateLogGroup", "DescribeLogGroups", "PutRetentionPolicy", "DeleteRetentionPolicy", "DeleteLogGroup"} <= set(model_check)


def test_bad_names_and_parameters(logs):
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.create_log_group(logGroupName="bad name!")
    assert "Member must satisfy regular expression pattern" in str(e.value)
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.create_log_group(logGroupName="x" * 513)
    logs.create_log_group(logGroupName="g")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.create_log_stream(logGroupName="g", logStreamName="a:b")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.describe_log_groups(logGroupNamePrefix="a", logGroupNamePattern="b")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.describe_log_groups(limit=51)
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime", logStreamNamePrefix="x")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.create_log_stream(logGroupName="missing", logStreamName="s")
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.get_log_events(logGroupName="g", logStreamName="s", nextToken="f/garbage")
    assert "nextToken" in str(e.value)


def test_streams_and_events(logs, model_check):
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    for s in ["b", "a", "c"]:
        logs.create_log_stream(logGroupName="/aws/lambda/orders", logStreamName=s)
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName="/aws/lambda/orders", logStreamName="a")
    t = now_ms()
    for i, s in enumerate(["a", "b", "c"]):
        r = logs.put_log_events(
            logGroupName="/aws/lambda/orders",
            logStreamName=s,
            logEvents=[{"timestamp": t - 1000 + i * 100 + k, "message": f"{s} event {k} level={'ERROR' if k % 5 == 0 else 'INFO'}"} for k in range(20)],
        )
        assert "rejectedLogEventsInfo" not in r and r["nextSequenceToken"]
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/orders")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a", "b", "c"]
    assert streams[0]["firstEventTimestamp"] == t - 1000 and streams[0]["lastEventTimestamp"] == t - 1000 + 19
    newest = logs.describe_log_streams(logGroupName="/aws/lambda/orders", orderBy="LastEventTime", descending=True)["logStreams"]
    assert [s["logStreamName"] for s in newest] == ["c", "b", "a"]
    paged = list(logs.get_paginator("describe_log_streams").paginate(logGroupName="/aws/lambda/orders", PaginationConfig={"PageSize": 2}))
    assert [s["logStreamName"] for p in paged for s in p["logStreams"]] == ["a", "b", "c"]

    # GetLogEvents: from the head, forward until the same token comes back.
    seen, token = [], None
    while True:
        kw = {"nextToken": token} if token else {"startFromHead": True}
        r = logs.get_log_events(logGroupName="/aws/lambda/orders", logStreamName="a", limit=7, **kw)
        seen += [e["message"] for e in r["events"]]
        if r["nextForwardToken"] == token:
            assert r["events"] == []
            break
        token = r["nextForwardToken"]
    assert seen == [f"a event {k} level={'ERROR' if k % 5 == 0 else 'INFO'}" for k in range(20)]
    # Without startFromHead: the newest page, oldest first; then backward.
    r = logs.get_log_events(logGroupName="/aws/lambda/orders", logStreamName="a", limit=5)
    assert [e["message"].split()[2] for e in r["events"]] == ["15", "16", "17", "18", "19"]
    back = logs.get_log_events(logGroupName="/aws/lambda/orders", logStreamName="a", limit=5, nextToken=r["nextBackwardToken"])
    assert [e["message"].split()[2] for e in back["events"]] == ["10", "11", "12", "13", "14"]
    # A forward token sees events appended later.
    logs.put_log_events(logGroupName="/aws/lambda/orders", logStreamName="a", logEvents=[{"timestamp": t, "message": "late"}])
    late = logs.get_log_events(logGroupName="/aws/lambda/orders", logStreamName="a", nextToken=token)
    assert [e["message"] for e in late["events"]] == ["late"]

    # FilterLogEvents: interleaved across streams, pattern, paginator ends without a token.
    pages = list(logs.get_paginator("filter_log_events").paginate(logGroupName="/aws/lambda/orders", filterPattern="ERROR", PaginationConfig={"PageSize": 4}))
    events = [e for p in pages for e in p["events"]]
    assert len(events) == 12 and all("ERROR" in e["message"] for e in events)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert {e["logStreamName"] for e in events} == {"a", "b", "c"}
    assert all(len(e["eventId"]) == 56 for e in events) and len({e["eventId"] for e in events}) == 12
    assert "nextToken" not in pages[-1]
    r = logs.filter_log_events(logGroupName="/aws/lambda/orders", logStreamNames=["b"], filterPattern='"b event 1"')
    assert [e["message"] for e in r["events"]] == ["b event 1 level=INFO"] + [f"b event 1{k} level={'ERROR' if k % 5 == 0 else 'INFO'}" for k in range(10)]
    r = logs.filter_log_events(logGroupName="/aws/lambda/orders", logStreamNamePrefix="c", startTime=t - 1000 + 200 + 5, endTime=t - 1000 + 200 + 6)
    assert [e["message"].split()[2] for e in r["events"]] == ["5", "6"]
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.filter_log_events(logGroupName="/aws/lambda/orders", filterPattern='{ $.level = "ERROR"')
    assert e.value.response["Error"]["Message"]
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName="/aws/lambda/orders", logStreamNames=["a"], logStreamNamePrefix="a")

    logs.delete_log_stream(logGroupName="/aws/lambda/orders", logStreamName="a")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName="/aws/lambda/orders", logStreamName="a")
    assert {"PutLogEvents", "GetLogEvents", "FilterLogEvents", "DescribeLogStreams", "CreateLogStream", "DeleteLogStream"} <= set(model_check)


def test_put_log_events_validation(logs):
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t = now_ms()
    day = 86_400_000
    r = logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": t - 20 * day, "message": "too old"},
        {"timestamp": t, "message": "ok"},
        {"timestamp": t + 3 * 3_600_000, "message": "too new"},
    ])
    assert r["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0, "tooNewLogEventStartIndex": 2}
    got = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in got] == ["ok"]
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}])
    assert "chronological order" in str(e.value)
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"timestamp": t, "message": "x" * 200_000}] * 6)
    assert "Upload too large" in str(e.value)
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"timestamp": t - 2 * day, "message": "a"}, {"timestamp": t, "message": "b"}])
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as e:
        logs.put_log_events(logGroupName="g", logStreamName="nope", logEvents=[{"timestamp": t, "message": "a"}])
    assert e.value.response["Error"]["Message"] == "The specified log stream does not exist."
    logs.put_retention_policy(logGroupName="g", retentionInDays=1)
    r = logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"timestamp": t - 3 * day, "message": "expired"}, {"timestamp": t, "message": "fresh"}])
    assert r["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}


def test_metric_filter_test_and_tags(logs, model_check):
    r = logs.test_metric_filter(filterPattern="[ip, user, ..., status = 4*, bytes]", logEventMessages=[
        '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
        '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 200 1534',
    ])
    assert len(r["matches"]) == 1
    m = r["matches"][0]
    assert m["eventNumber"] == 1 and m["extractedValues"]["$status"] == "404" and m["extractedValues"]["$bytes"] == "1534"
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.test_metric_filter(filterPattern="{ $.x = ", logEventMessages=["a"])

    logs.create_log_group(logGroupName="/t/g", tags={"a": "1"})
    arn = logs.describe_log_groups(logGroupNamePrefix="/t/g")["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"b": "2", "a": "0"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "0", "b": "2"}
    logs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert logs.list_tags_log_group(logGroupName="/t/g")["tags"] == {"b": "2"}
    logs.tag_log_group(logGroupName="/t/g", tags={"c": "3"})
    logs.untag_log_group(logGroupName="/t/g", tags=["b"])
    assert logs.list_tags_for_resource(resourceArn=arn + ":*")["tags"] == {"c": "3"}
    with pytest.raises(logs.exceptions.TooManyTagsException):
        logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.list_tags_for_resource(resourceArn="arn:aws:logs:us-east-1:000000000000:log-group:/nope")
    assert {"TestMetricFilter", "TagResource", "UntagResource", "ListTagsForResource", "TagLogGroup", "UntagLogGroup", "ListTagsLogGroup"} <= set(model_check)


def test_events_survive_restart(server_factory, tmp_path):
    first = server_factory(data_dir=tmp_path / "persist")
    logs = client_for(first.endpoint)
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    t = now_ms()
    for batch in range(5):
        logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"timestamp": t + batch * 100 + k, "message": f"m{batch}-{k}"} for k in range(100)])
    assert first.stop() == 0
    second = server_factory(data_dir=tmp_path / "persist")
    logs = client_for(second.endpoint)
    events = [e for p in logs.get_paginator("filter_log_events").paginate(logGroupName="g") for e in p["events"]]
    assert [e["message"] for e in events] == [f"m{b}-{k}" for b in range(5) for k in range(100)]


def test_unprotected_non_loopback_listen_is_refused(tmp_path):
    import subprocess
    from conftest import lookout_binary

    r = subprocess.run([lookout_binary(), "serve", "--data-dir", str(tmp_path / "d"), "--listen", "0.0.0.0:0"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "refusing to listen on 0.0.0.0:0 without --credentials" in r.stderr
