//! End-to-end tests of the `lookout` binary.

// Test helpers outside `#[test]` functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::process::{Command, Stdio};

fn lookout() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lookout"))
}

/// FNV-1a over a byte stream: enough to tell two outputs apart, no dependency.
fn fnv1a(mut r: impl Read) -> (u64, u64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut n = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let k = r.read(&mut buf).unwrap();
        if k == 0 {
            return (h, n);
        }
        n += k as u64;
        for &b in &buf[..k] {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

fn gen_digest(args: &[&str]) -> (u64, u64) {
    let mut child = lookout()
        .arg("gen")
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let digest = fnv1a(child.stdout.take().unwrap());
    assert!(child.wait().unwrap().success());
    digest
}

#[test]
fn help_and_version() {
    let out = lookout().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("gen"), "{text}");
    let out = lookout().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("lookout {}", env!("CARGO_PKG_VERSION"))
    );
    let out = lookout().args(["gen", "--help"]).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("Examples:"));
}

#[test]
fn gen_million_events_is_byte_identical_across_runs() {
    let a = gen_digest(&["--events", "1000000", "--seed", "7"]);
    let b = gen_digest(&["--events", "1000000", "--seed", "7"]);
    assert_eq!(a, b);
    assert!(
        a.1 > 300_000_000,
        "suspiciously small output: {} bytes",
        a.1
    );
    let c = gen_digest(&["--events", "1000000", "--seed", "8"]);
    assert_ne!(a.0, c.0);
}

/// The generator's output is an interface: benchmark answers and stored fixtures depend on
/// it. A deliberate change to the generator updates this digest in the same commit.
#[test]
fn gen_output_is_frozen() {
    let d = gen_digest(&["--events", "10000", "--seed", "7"]);
    assert_eq!(d, GOLDEN_10K_SEED_7, "generator output changed: {d:?}");
}

const GOLDEN_10K_SEED_7: (u64, u64) = (16_108_019_142_519_303_225, 5_827_130);

#[test]
fn manifest_needles_match_grep_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.jsonl");
    let status = lookout()
        .args(["gen", "--events", "100000", "--seed", "7", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let manifest_path = dir.path().join("events.jsonl.manifest.json");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["events"], 100_000);
    let lines = std::fs::read_to_string(&out).unwrap().lines().count();
    assert_eq!(lines, 100_000);
    for needle in ["request_id", "trace_id", "rare_term"] {
        let value = manifest["needles"][needle]["value"].as_str().unwrap();
        let expected = manifest["needles"][needle]["count"].as_u64().unwrap();
        assert!(expected > 0, "{needle} has no hits");
        let grep = Command::new("grep")
            .args(["-c", "-F", "--", value])
            .arg(&out)
            .output()
            .unwrap();
        let counted: u64 = String::from_utf8(grep.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(counted, expected, "{needle} {value}");
    }
    // A request id is shared by about ten lines (START, records, END, REPORT).
    let rid = manifest["needles"]["request_id"]["count"].as_u64().unwrap();
    let trace = manifest["needles"]["trace_id"]["count"].as_u64().unwrap();
    assert!(trace >= 3, "{trace}");
    assert!((5..=15).contains(&rid), "{rid}");
}

#[test]
fn bad_arguments_fail_with_one_line() {
    for args in [
        &["gen", "--start", "yesterday"][..],
        &["gen", "--span", "0"],
        &["gen", "--entropy", "2"],
        &["gen", "--functions", "0"],
        &["gen", "--out", "/nonexistent-dir/x.jsonl"],
    ] {
        let out = lookout().args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("lookout: "), "{err}");
    }
}

#[test]
fn closed_pipe_is_not_an_error() {
    let mut child = lookout()
        .args(["gen", "--events", "1000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

mod client;
