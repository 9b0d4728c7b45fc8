"""SigV4 and IAM-style policies end to end: boto3 against `lookout serve --credentials FILE`.

Every request must be signed by a known key and allowed by its signer's policy; the
rejections carry the AWS error codes and HTTP 403.
"""
import datetime
import json
import textwrap
import time
import urllib.error
import urllib.request

import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from conftest import client_for

# The shape issue #6 says must work as written, plus an admin whose policy also denies one
# action explicitly (explicit Deny beats the `logs:*` Allow).
CREDENTIALS = textwrap.dedent(
    """\
    [[users]]
    name = "shipper"
    access_key_id = "AKIDSHIPPER"
    secret_access_key = "shipper-secret"
    policy = '''{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
      "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
      "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}'''

    [[users]]
    name = "admin"
    access_key_id = "AKIDADMIN"
    secret_access_key = "admin-secret"
    policy = '''{"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "logs:Delete*", "Resource": "arn:aws:logs:*:*:log-group:/keep/*"}]}'''
    """
)


@pytest.fixture
def secured(server_factory, tmp_path):
    path = tmp_path / "credentials.toml"
    path.write_text(CREDENTIALS)
    return server_factory("--credentials", str(path))


def admin(server):
    return client_for(server.endpoint, key="AKIDADMIN", secret="admin-secret")


def shipper(server):
    return client_for(server.endpoint, key="AKIDSHIPPER", secret="shipper-secret")


def error_of(excinfo):
    err = excinfo.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_allowed_requests_succeed(secured):
    adm, ship = admin(secured), shipper(secured)
    adm.create_log_group(logGroupName="/aws/lambda/orders")
    ship.create_log_stream(logGroupName="/aws/lambda/orders", logStreamName="s1")
    now = int(time.time() * 1000)
    r = ship.put_log_events(
        logGroupName="/aws/lambda/orders",
        logStreamName="s1",
        logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(5)],
    )
    assert "rejectedLogEventsInfo" not in r
    got = adm.get_log_events(logGroupName="/aws/lambda/orders", logStreamName="s1", startFromHead=True)
    assert [e["message"] for e in got["events"]] == [f"line {i}" for i in range(5)]


def test_unsigned_request_is_rejected(secured):
    c = client_for(secured.endpoint, signature_version=botocore.UNSIGNED)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.describe_log_groups()
    code, message, status = error_of(e)
    assert (code, status) == ("MissingAuthenticationTokenException", 403)
    assert message == "Missing Authentication Token"


def test_wrong_secret_is_rejected(secured):
    c = client_for(secured.endpoint, key="AKIDADMIN", secret="not-the-secret")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.describe_log_groups()
    code, message, status = error_of(e)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("The request signature we calculated does not match the signature you provided")


def test_unknown_access_key_is_rejected(secured):
    c = client_for(secured.endpoint, key="AKIDNOBODY", secret="whatever")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.describe_log_groups()
    code, message, status = error_of(e)
    assert (code, status) == ("UnrecognizedClientException", 403)
    assert message == "The security token included in the request is invalid."


def test_expired_signature_is_rejected(secured, monkeypatch):
    # botocore takes the signing time from this function; 20 minutes back is outside the
    # 15-minute window AWS allows.
    stale = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: stale)
    c = admin(secured)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.describe_log_groups()
    code, message, status = error_of(e)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("Signature expired: ")
    assert "is now earlier than" in message


def test_future_signature_is_rejected(secured, monkeypatch):
    ahead = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: ahead)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        admin(secured).describe_log_groups()
    code, message, status = error_of(e)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("Signature not yet current: ")


def test_policy_denials(secured):
    adm, ship = admin(secured), shipper(secured)
    adm.create_log_group(logGroupName="/aws/lambda/orders")
    adm.create_log_group(logGroupName="/app/other")
    adm.create_log_group(logGroupName="/keep/audit")

    # An action the shipper's policy does not list.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ship.describe_log_groups()
    code, message, status = error_of(e)
    assert (code, status) == ("AccessDeniedException", 403)
    assert "User: shipper is not authorized to perform: logs:DescribeLogGroups" in message

    # A listed action on a resource outside the policy's ARN pattern.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ship.create_log_stream(logGroupName="/app/other", logStreamName="s")
    code, message, status = error_of(e)
    assert (code, status) == ("AccessDeniedException", 403)
    assert "log-group:/app/other" in message

    # Explicit Deny wins over `logs:*`.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        adm.delete_log_group(logGroupName="/keep/audit")
    assert error_of(e)[0] == "AccessDeniedException"
    assert "/keep/audit" in [g["logGroupName"] for g in adm.describe_log_groups()["logGroups"]]
    adm.delete_log_group(logGroupName="/app/other")

    # A denied PutLogEvents wrote nothing.
    with pytest.raises(botocore.exceptions.ClientError):
        shipper(secured).put_log_events(
            logGroupName="/keep/audit", logStreamName="s", logEvents=[{"timestamp": 1, "message": "x"}]
        )


def presigned_post(endpoint, key, secret, target, body, expires=300):
    """A query-string (presigned) SigV4 request signed by botocore, sent with urllib."""
    req = botocore.awsrequest.AWSRequest(
        method="POST",
        url=endpoint + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
    )
    creds = botocore.credentials.Credentials(key, secret)
    botocore.auth.SigV4QueryAuth(creds, "logs", "us-east-1", expires=expires).add_auth(req)
    prepared = req.prepare()
    http = urllib.request.Request(prepared.url, data=body, method="POST", headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(http, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_query_string_signature(secured):
    admin(secured).create_log_group(logGroupName="/aws/lambda/presigned")
    status, body = presigned_post(
        secured.endpoint, "AKIDADMIN", "admin-secret", "Logs_20140328.DescribeLogGroups", b"{}"
    )
    assert status == 200
    assert [g["logGroupName"] for g in body["logGroups"]] == ["/aws/lambda/presigned"]

    status, body = presigned_post(
        secured.endpoint, "AKIDADMIN", "wrong", "Logs_20140328.DescribeLogGroups", b"{}"
    )
    assert (status, body["__type"]) == (403, "InvalidSignatureException")
