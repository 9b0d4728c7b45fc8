//! `lookout run`: output shipped, echoed, exit code passed through.

use super::{Server, json_lines};

#[test]
fn run_ships_each_line_and_passes_the_exit_code() {
    let server = Server::start();
    let out = server.run(&[
        "run",
        "--group",
        "/jobs/nightly",
        "--",
        "sh",
        "-c",
        "echo started; echo 'warning: disk 91% full' >&2; printf '\\n'; echo done; exit 3",
    ]);
    assert_eq!(out.status.code(), Some(3), "the child's exit code");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "started\n\ndone\n",
        "echoed"
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "warning: disk 91% full\n"
    );

    let streams: serde_json::Value =
        serde_json::from_str(&server.ok(&["streams", "/jobs/nightly", "--json"])).unwrap();
    let streams = streams.as_array().unwrap();
    assert_eq!(streams.len(), 1);
    let name = streams[0]["logStreamName"].as_str().unwrap();
    // YYYY/MM/DD/[$LATEST]<32 hex>
    let (date, id) = name.split_at(11);
    assert!(date.bytes().filter(|b| *b == b'/').count() == 3, "{name}");
    let hex = id.strip_prefix("[$LATEST]").expect(name);
    assert!(
        hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{name}"
    );

    let events = json_lines(&server.ok(&["tail", "/jobs/nightly", "--format", "json"]));
    let mut messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    messages.sort_unstable();
    assert_eq!(
        messages,
        ["done", "started", "warning: disk 91% full"],
        "empty lines are not shipped"
    );

    let ok = server.run(&[
        "run",
        "--group",
        "/jobs/nightly",
        "--stream",
        "fixed",
        "--",
        "true",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    let missing = server.run(&[
        "run",
        "--group",
        "/jobs/nightly",
        "--",
        "/nonexistent/program",
    ]);
    super::one_line_error(&missing);
}

#[test]
fn run_ships_output_while_the_command_runs() {
    let server = Server::start();
    let mut child = server
        .cmd()
        .args([
            "run",
            "--group",
            "/live",
            "--stream",
            "s",
            "--",
            "sh",
            "-c",
            "echo early; sleep 30",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let out = server.run(&["tail", "/live", "--format", "json"]);
        if out.status.success() && String::from_utf8_lossy(&out.stdout).contains("\"early\"") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the line was not shipped while running"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn ctrl_c_stops_the_command_and_lookout_still_ships_and_reports_it() {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let server = Server::start();
    let mut child = server
        .cmd()
        .args([
            "run",
            "--group",
            "/int",
            "--stream",
            "s",
            "--",
            "sh",
            "-c",
            "echo before; sleep 30",
        ])
        .stdout(std::process::Stdio::piped())
        // Its own process group, as a shell gives a foreground job.
        .process_group(0)
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "before\n");
    // Let the signal handler settle, then Ctrl-C the whole group as a terminal does.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let group = format!("-{}", child.id());
    let killed = std::process::Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(130),
        "128 + SIGINT, as a shell reports it"
    );
    let events = json_lines(&server.ok(&["tail", "/int", "--format", "json"]));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["message"], "before");
}
