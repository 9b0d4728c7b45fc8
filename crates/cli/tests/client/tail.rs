//! `lookout tail`, once and following.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Server, json_lines};

const SINCE_START: &str = "2026-11-01T00:00:00Z";

#[test]
fn tail_prints_readable_lines_filters_and_json() {
    let server = Server::start();
    server.import_generated("/aws/lambda/orders", 2000, 5);
    let all = json_lines(&server.ok(&[
        "tail",
        "/aws/lambda/orders",
        "--since",
        SINCE_START,
        "--format",
        "json",
    ]));
    assert_eq!(all.len(), 2000);
    let ts: Vec<i64> = all
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "time order");
    for key in [
        "logGroupName",
        "logStreamName",
        "eventId",
        "ingestionTime",
        "message",
    ] {
        assert!(all[0].get(key).is_some(), "{key}");
    }

    let short = server.ok(&["tail", "/aws/lambda/orders", "--since", SINCE_START]);
    assert!(!short.contains('\x1b'), "no colour in a pipe");
    let report = short
        .lines()
        .find(|l| l.contains("REPORT RequestId:"))
        .expect("platform lines are shown");
    assert!(report.starts_with("2026-11-01T"), "{report}");
    // Powertools JSON reads as `LEVEL request-id message  key=value`.
    let structured = short
        .lines()
        .find(|l| l.contains("INFO  "))
        .expect("an INFO record");
    assert!(!structured.contains("\"level\""), "{structured}");
    assert!(
        !structured.contains("function_arn="),
        "context keys left out: {structured}"
    );

    let errors = server.ok(&[
        "tail",
        "/aws/lambda/orders",
        "--since",
        SINCE_START,
        "--filter-pattern",
        "{ $.level = \"ERROR\" }",
    ]);
    assert!(!errors.is_empty());
    for line in errors.lines().filter(|l| l.starts_with("2026-")) {
        assert_eq!(&line[20..26], "ERROR ", "{line}");
    }

    let stream = all[0]["logStreamName"].as_str().unwrap();
    let one = json_lines(&server.ok(&[
        "tail",
        "/aws/lambda/orders",
        "--since",
        SINCE_START,
        "--format",
        "json",
        "--stream-prefix",
        stream,
    ]));
    assert!(!one.is_empty());
    assert!(one.iter().all(|e| e["logStreamName"] == stream));

    let detailed = server.ok(&[
        "tail",
        "/aws/lambda/orders",
        "--since",
        SINCE_START,
        "--format",
        "detailed",
    ]);
    assert!(
        detailed.contains(&format!(" {stream} ")),
        "stream names shown"
    );

    // Nothing in the default window (the last 10 minutes): empty output, success.
    assert_eq!(server.ok(&["tail", "/aws/lambda/orders"]), "");
}

#[test]
fn tail_merges_groups_in_time_order() {
    let server = Server::start();
    server.import_generated("/a", 500, 6);
    server.import_generated("/b", 500, 7);
    let both = json_lines(&server.ok(&[
        "tail",
        "/a",
        "/b",
        "--since",
        SINCE_START,
        "--format",
        "json",
    ]));
    assert_eq!(both.len(), 1000);
    let groups: BTreeSet<&str> = both
        .iter()
        .map(|e| e["logGroupName"].as_str().unwrap())
        .collect();
    assert_eq!(groups.len(), 2);
    let ts: Vec<i64> = both
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));
    let short = server.ok(&["tail", "/a", "/b", "--since", SINCE_START]);
    assert!(
        short.lines().any(|l| l.contains(" /b ")),
        "group names shown for several groups"
    );
}

/// Imports `lines` (current time) into `/live` as text.
fn ship_now(server: &Server, name: &str, lines: &[String]) {
    let file = server.path(name);
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    server.ok(&[
        "import",
        file.to_str().unwrap(),
        "--group",
        "/live",
        "--stream",
        "s1",
        "--format",
        "text",
    ]);
}

#[test]
fn tail_follow_picks_up_new_events_without_gaps_or_duplicates() {
    let server = Server::start();
    let first: Vec<String> = (0..50).map(|i| format!("first {i}")).collect();
    ship_now(&server, "first.txt", &first);
    let mut child = server
        .cmd()
        .args([
            "tail",
            "/live",
            "--follow",
            "--since",
            "1m",
            "--format",
            "json",
            "--poll-interval",
            "100ms",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut got: Vec<serde_json::Value> = Vec::new();
    let wait_for = |n: usize, got: &mut Vec<serde_json::Value>| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while got.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => got.push(serde_json::from_str(&line).unwrap()),
                Err(_) => panic!("only {} of {n} events arrived", got.len()),
            }
        }
    };
    wait_for(50, &mut got);
    // New events in three rounds while tail polls; each round is one PutLogEvents.
    let mut want: Vec<String> = first.clone();
    for round in 0..3 {
        let lines: Vec<String> = (0..40).map(|i| format!("round {round} line {i}")).collect();
        ship_now(&server, &format!("round{round}.txt"), &lines);
        want.extend(lines);
        wait_for(want.len(), &mut got);
    }
    // A writer that delivers late: events stamped before the newest one already shown.
    let late_stamp = (time::OffsetDateTime::now_utc() - time::Duration::seconds(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let late: Vec<String> = (0..5).map(|i| format!("late line {i}")).collect();
    ship_now(
        &server,
        "late.txt",
        &late
            .iter()
            .map(|l| format!("{late_stamp} {l}"))
            .collect::<Vec<_>>(),
    );
    want.extend(late);
    wait_for(want.len(), &mut got);
    // Give a duplicate the chance to show up before checking there is none.
    std::thread::sleep(Duration::from_millis(500));
    while let Ok(line) = rx.try_recv() {
        got.push(serde_json::from_str(&line).unwrap());
    }
    let _ = child.kill();
    let _ = child.wait();
    let messages: Vec<String> = got
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    let ids: BTreeSet<&str> = got.iter().map(|e| e["eventId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), got.len(), "no event printed twice");
    let mut sorted_got = messages.clone();
    let mut sorted_want = want.clone();
    sorted_got.sort();
    sorted_want.sort();
    assert_eq!(sorted_got, sorted_want, "every event exactly once");
}

#[test]
fn a_terminal_gets_colours_and_query_statistics() {
    let server = Server::start();
    server.import_generated("/aws/lambda/orders", 1000, 12);
    let on_pty = |args: &str| {
        let cmd = format!(
            "LOOKOUT_ENDPOINT={} {} {args}",
            server.endpoint,
            env!("CARGO_BIN_EXE_lookout")
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env_remove("NO_COLOR")
            .env("TERM", "xterm")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let screen = on_pty(&format!("tail /aws/lambda/orders --since {SINCE_START}"));
    assert!(screen.contains("\x1b[32mINFO \x1b[0m"), "levels in colour");
    assert!(
        screen.contains("\x1b[2mREPORT RequestId:"),
        "platform lines dimmed"
    );
    let screen = on_pty(
        "query 'stats count(*) by bin(10m)' -g /aws/lambda/orders \
         --start 2026-11-01T00:00:00Z --end 2026-11-01T02:00:00Z",
    );
    assert!(screen.contains("records scanned"), "{screen}");
    assert!(screen.contains("\x1b[1mbin(10m)"), "bold header: {screen}");
}
