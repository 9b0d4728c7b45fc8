//! `lookout import`: formats, resuming, rejected events, the progress bar.

use std::io::Write;
use std::process::Command;

use super::{Server, gen_file, json_lines};

fn messages(server: &Server, group: &str) -> Vec<String> {
    let mut m: Vec<String> = json_lines(&server.ok(&["export", group]))
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    m.sort();
    m
}

#[test]
fn import_reads_text_and_gzipped_exports() {
    let server = Server::start();
    let text = server.path("app.log");
    std::fs::write(
        &text,
        "2026-11-29T10:00:00.000Z first\n\n2026-11-29T10:00:01.500Z second\nno timestamp\n",
    )
    .unwrap();
    let out = server.run(&[
        "import",
        text.to_str().unwrap(),
        "--group",
        "/t",
        "--format",
        "text",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("lookout: imported 3 events into /t in "),
        "{err}"
    );
    let events = json_lines(&server.ok(&["export", "/t"]));
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["message"], "first");
    assert_eq!(events[1]["timestamp"], 1_795_946_401_500_i64);
    assert_eq!(events[0]["logStream"], "lookout-import");
    // The same file into another group: the finished checkpoint does not stand in the way,
    // but a second identical run is not repeated.
    let t2 = [
        "import",
        text.to_str().unwrap(),
        "--group",
        "/t2",
        "--format",
        "text",
    ];
    server.ok(&t2);
    assert_eq!(json_lines(&server.ok(&["export", "/t2"])).len(), 3);
    let again = server.run(&t2);
    assert!(again.status.success());
    assert!(
        String::from_utf8(again.stderr)
            .unwrap()
            .contains("nothing to do")
    );

    let gz = server.path("000000.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(b"2026-11-29T10:00:00.000Z Traceback (most recent call last):\n  File \"x.py\", line 1\n2026-11-29T10:00:02.000Z done\n").unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    server.ok(&[
        "import",
        gz.to_str().unwrap(),
        "--group",
        "/x",
        "--stream",
        "restored",
        "--format",
        "cloudwatch-export",
    ]);
    assert_eq!(
        messages(&server, "/x"),
        [
            "Traceback (most recent call last):\n  File \"x.py\", line 1",
            "done"
        ]
    );
}

#[test]
fn interrupted_import_resumes_without_duplicates() {
    let server = Server::start();
    let file = server.path("e.jsonl");
    gen_file(&file, 10_000, 8);
    let f = file.to_str().unwrap();
    let mut child = server
        .cmd()
        .args(["import", f, "--group", "/r"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = server.path("e.jsonl.lookout-import");
    // Interrupt it once a few batches are in.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let lines = std::fs::read_to_string(&checkpoint)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines > 10 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no progress");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = json_lines(&server.ok(&["export", "/r"])).len();
    let out = server.run(&["import", f, "--group", "/r"]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    if partial < 10_000 {
        assert!(err.starts_with("lookout: resuming: "), "{err}");
    }
    let mut want: Vec<String> = json_lines(&std::fs::read_to_string(&file).unwrap())
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    let got = messages(&server, "/r");
    if got != want {
        let extra: Vec<&String> = got.iter().filter(|m| !want.contains(m)).take(3).collect();
        panic!(
            "every event exactly once: got {} of {} events (first extra: {extra:?})",
            got.len(),
            want.len()
        );
    }

    // A finished import is not repeated unless asked.
    let out = server.run(&["import", f, "--group", "/r"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("nothing to do")
    );
}

#[test]
fn rejected_events_are_reported() {
    let server = Server::start_with(&["--max-event-age", "1d"]);
    let file = server.path("old.log");
    std::fs::write(&file, "2020-01-01T00:00:00Z too old\nfresh line\n").unwrap();
    let out = server.run(&[
        "import",
        file.to_str().unwrap(),
        "--group",
        "/old",
        "--format",
        "text",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    let last = err.lines().last().unwrap();
    assert_eq!(
        last,
        "lookout: 1 events were not imported: 1 too old for the server (see `lookout serve --max-event-age`)"
    );
    assert_eq!(messages(&server, "/old"), ["fresh line"]);
}

#[test]
fn import_progress_bar_shows_on_a_terminal_only() {
    let server = Server::start();
    let file = server.path("p.jsonl");
    gen_file(&file, 20_000, 9);
    // `script` runs the import on a pseudo-terminal and copies what it draws.
    let cmd = format!(
        "LOOKOUT_ENDPOINT={} {} import {} --group /p",
        server.endpoint,
        env!("CARGO_BIN_EXE_lookout"),
        file.display()
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("`script` (util-linux) runs commands on a pseudo-terminal");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("events/s"), "{screen}");
    assert!(
        screen.contains("100%") && screen.contains("===="),
        "a bar is drawn: {screen}"
    );
    // In a pipe: only the summary line.
    let out = server.run(&["import", file.to_str().unwrap(), "--group", "/p2"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains('%'));
}
