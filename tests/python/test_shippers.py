"""Real shippers and readers against `lookout serve`: watchtower (Python logging handler)
and awslogs (`awslogs get`)."""
import logging
import os
import shutil
import subprocess
import sys
import time

from conftest import client_for


def test_watchtower_ships_python_logging(server):
    import watchtower

    client = client_for(server.endpoint)
    handler = watchtower.CloudWatchLogHandler(
        log_group_name="/app/watchtower",
        log_stream_name="worker-1",
        boto3_client=client,
        send_interval=1,
        create_log_group=True,
    )
    logger = logging.getLogger("lookout-watchtower-test")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        for i in range(25):
            logger.info("order %d processed", i)
        logger.error({"event": "payment_failed", "order": 7})
        handler.flush()
    finally:
        logger.removeHandler(handler)
        handler.close()
    events = [e for p in client.get_paginator("filter_log_events").paginate(logGroupName="/app/watchtower") for e in p["events"]]
    messages = [e["message"] for e in events]
    assert messages[:25] == [f"order {i} processed" for i in range(25)]
    assert '"event": "payment_failed"' in messages[25]
    assert {e["logStreamName"] for e in events} == {"worker-1"}
    hits = client.filter_log_events(logGroupName="/app/watchtower", filterPattern='{ $.event = "payment_failed" }')["events"]
    assert len(hits) == 1


def test_awslogs_get(server, tmp_path):
    client = client_for(server.endpoint)
    client.create_log_group(logGroupName="/aws/lambda/awslogs")
    client.create_log_stream(logGroupName="/aws/lambda/awslogs", logStreamName="2026/11/29/[$LATEST]abc")
    t = int(time.time() * 1000)
    client.put_log_events(logGroupName="/aws/lambda/awslogs", logStreamName="2026/11/29/[$LATEST]abc",
                          logEvents=[{"timestamp": t - 60_000 + i, "message": f"awslogs line {i}"} for i in range(30)])
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    exe = shutil.which("awslogs") or os.path.join(os.path.dirname(sys.executable), "awslogs")
    r = subprocess.run([exe, "get", "/aws/lambda/awslogs", "ALL", "--start", "5m", "--aws-endpoint-url", server.endpoint,
                        "--no-color"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if "awslogs line" in l]
    assert len(lines) == 30, r.stdout
    assert lines[0].startswith("/aws/lambda/awslogs 2026/11/29/[$LATEST]abc awslogs line 0")
    g = subprocess.run([exe, "groups", "--aws-endpoint-url", server.endpoint], capture_output=True, text=True, env=env, timeout=60)
    assert "/aws/lambda/awslogs" in g.stdout.split()
