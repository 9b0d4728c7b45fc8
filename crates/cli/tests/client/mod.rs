//! The client subcommands against a real `lookout serve` on a free loopback port.

// Tests wait on other processes with plain sleeps; there is no async runtime here.
#![allow(clippy::disallowed_methods)]

mod import;
mod listing;
mod query;
mod run;
mod tail;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::lookout;

/// A server on its own data directory, killed when dropped.
pub struct Server {
    child: Child,
    pub endpoint: String,
    dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Ask the kernel for a free port, then hand it to the server.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut serve = lookout();
        serve.args(["serve", "--listen", &addr, "--data-dir"]);
        serve.arg(dir.path().join("data"));
        // Generated events are weeks old: accept any age unless the test says otherwise.
        if !extra.contains(&"--max-event-age") {
            serve.args(["--max-event-age", "none"]);
        }
        let child = serve
            .args(extra)
            .env("LOOKOUT_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut child = child;
        // Generous: the suite shares two cores with builds.
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(&addr).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("server on {addr} exited early: {status}");
            }
            assert!(Instant::now() < deadline, "server did not start on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            endpoint: format!("http://{addr}"),
            dir,
        }
    }

    /// A scratch path in the server's temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `lookout` pointed at this server, without credentials or colour settings of the
    /// environment running the tests.
    pub fn cmd(&self) -> Command {
        let mut c = lookout();
        c.env("LOOKOUT_ENDPOINT", &self.endpoint)
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("NO_COLOR")
            .env_remove("COLUMNS");
        c
    }

    /// Runs `lookout ARGS` against this server and returns what a user would see.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Like `run`, but the command must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "lookout {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Imports `lookout gen` events into `group`; returns the generated file.
    pub fn import_generated(&self, group: &str, events: u64, seed: u64) -> PathBuf {
        let file = self.path(&format!("gen-{seed}-{events}.jsonl"));
        gen_file(&file, events, seed);
        let out = self.run(&["import", file.to_str().unwrap(), "--group", group]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        file
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `events` generator events (span 1 h from 2026-11-01) to `path`.
pub fn gen_file(path: &Path, events: u64, seed: u64) {
    let status = lookout()
        .args(["gen", "--span", "1h", "--functions", "3", "--events"])
        .arg(events.to_string())
        .arg("--seed")
        .arg(seed.to_string())
        .arg("--out")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Asserts a failed command with exactly one `lookout: …` line on stderr; returns it.
pub fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("lookout: "), "{err}");
    err
}

/// Parses JSON lines.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
