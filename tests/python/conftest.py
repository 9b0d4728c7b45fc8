"""Fixtures for end-to-end tests: a real `lookout serve` on a free loopback port."""
import os
import pathlib
import re
import select
import signal
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def lookout_binary():
    """The debug binary built by the test script (LOOKOUT_BIN overrides)."""
    if os.environ.get("LOOKOUT_BIN"):
        return os.environ["LOOKOUT_BIN"]
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = target / "debug" / "lookout"
    if not path.exists():
        subprocess.run(["cargo", "build", "-q", "-p", "lookout-cli"], cwd=ROOT, check=True)
    return str(path)


class Server:
    """A `lookout serve` child process; stops itself when the test ends."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.proc = None
        self.endpoint = None

    def start(self):
        self.proc = subprocess.Popen(
            [lookout_binary(), "serve", "--data-dir", str(self.data_dir), "--listen", "127.0.0.1:0", *self.extra_args],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.time() + 30
        lines = []
        while time.time() < deadline:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.5)
            if ready:
                line = self.proc.stderr.readline()
                lines.append(line)
                m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
                if m:
                    self.endpoint = m.group(1)
                    return self
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError("lookout serve did not start: " + "".join(lines))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


@pytest.fixture
def server_factory(tmp_path):
    servers = []

    def make(*extra_args, data_dir=None):
        s = Server(data_dir or tmp_path / "data", extra_args).start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def server(server_factory):
    return server_factory()


def client_for(endpoint, service="logs", key="AKIDTEST", secret="test-secret", **config):
    import boto3
    import botocore.config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1}, **config),
    )


@pytest.fixture
def logs(server):
    return client_for(server.endpoint)
