//! `groups`, `streams`, `export`, errors and signing.

use super::{Server, json_lines, one_line_error};

#[test]
fn groups_and_streams_as_tables_and_json() {
    let server = Server::start();
    assert_eq!(
        server.ok(&["groups"]).trim(),
        "GROUP  CREATED  RETENTION  STORED",
        "an empty server lists only the header"
    );
    let file = server.import_generated("/aws/lambda/orders", 2000, 3);
    let table = server.ok(&["groups"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with("GROUP"), "{table}");
    assert!(lines[1].starts_with("/aws/lambda/orders  20"), "{table}");
    assert!(lines[1].contains("never expire"), "{table}");
    assert!(!table.contains('\x1b'), "no colour when not on a terminal");

    let groups: serde_json::Value =
        serde_json::from_str(&server.ok(&["groups", "--json"])).unwrap();
    assert_eq!(groups[0]["logGroupName"], "/aws/lambda/orders");
    assert!(groups[0]["storedBytes"].as_i64().unwrap() > 0);

    let wanted: std::collections::BTreeSet<String> =
        json_lines(&std::fs::read_to_string(&file).unwrap())
            .iter()
            .map(|l| l["logStream"].as_str().unwrap().to_string())
            .collect();
    let streams: serde_json::Value =
        serde_json::from_str(&server.ok(&["streams", "/aws/lambda/orders", "--json"])).unwrap();
    let got: std::collections::BTreeSet<String> = streams
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["logStreamName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, wanted, "every stream of the input, across pages");
    let table = server.ok(&["streams", "/aws/lambda/orders"]);
    assert_eq!(table.lines().count(), wanted.len() + 1);
    assert!(table.starts_with("STREAM "), "{table}");
    assert!(table.contains("2026-11-01T"), "{table}");
}

#[test]
fn export_writes_jsonl_that_imports_back_and_parquet() {
    let server = Server::start();
    let file = server.import_generated("/g", 1500, 4);
    let exported = server.ok(&["export", "/g"]);
    let lines = json_lines(&exported);
    assert_eq!(lines.len(), 1500);
    let input = json_lines(&std::fs::read_to_string(&file).unwrap());
    let mut want: Vec<(i64, String)> = input
        .iter()
        .map(|l| {
            (
                l["timestamp"].as_i64().unwrap(),
                l["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut got: Vec<(i64, String)> = lines
        .iter()
        .map(|l| {
            (
                l["timestamp"].as_i64().unwrap(),
                l["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "the export holds exactly the imported events");
    assert_eq!(lines[0]["logGroup"], "/g");
    assert!(lines[0]["eventId"].as_str().unwrap().len() > 10);

    // A reader that stops early (`| head`) is not an error.
    let mut child = server
        .cmd()
        .args(["export", "/g"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());

    // Exported lines are import input.
    let copy = server.path("export.jsonl");
    std::fs::write(&copy, &exported).unwrap();
    server.ok(&["import", copy.to_str().unwrap(), "--group", "/copy"]);
    assert_eq!(json_lines(&server.ok(&["export", "/copy"])).len(), 1500);

    let reports = json_lines(&server.ok(&["export", "/g", "--filter-pattern", "REPORT"]));
    assert!(
        !reports.is_empty() && reports.len() < 1500,
        "{}",
        reports.len()
    );
    assert!(
        reports
            .iter()
            .all(|e| e["message"].as_str().unwrap().starts_with("REPORT "))
    );

    let pq = server.path("g.parquet");
    let out = server.run(&[
        "export",
        "/g",
        "--format",
        "parquet",
        "-o",
        pq.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap().trim(),
        format!("lookout: exported 1500 events to {}", pq.display())
    );
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(&pq).unwrap()).unwrap();
    let meta = reader.metadata().file_metadata();
    assert_eq!(meta.num_rows(), 1500);
    let names: Vec<&str> = meta
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(
        names,
        [
            "log_group",
            "log_stream",
            "timestamp",
            "message",
            "ingestion_time",
            "event_id"
        ]
    );
}

#[test]
fn errors_are_one_line_with_a_failure_code() {
    let server = Server::start();
    for args in [
        &["streams", "/missing"][..],
        &["tail", "/missing"],
        &["export", "/missing"],
        &["tail", "/g", "--since", "yesterday"],
        &["query", "fields @message", "-g", "/missing"],
        &["import", "/nonexistent/file.jsonl", "--group", "/g"],
    ] {
        let err = one_line_error(&server.run(args));
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let err = one_line_error(&server.run(&["streams", "/missing"]));
    assert_eq!(
        err.trim(),
        "lookout: ResourceNotFoundException: The specified log group does not exist."
    );
    let err = one_line_error(&server.run(&["groups", "--endpoint", "http://127.0.0.1:1"]));
    assert!(err.contains("connection refused"), "{err}");
    let bad = server.path("bad.jsonl");
    std::fs::write(&bad, "{\"timestamp\": 1, \"message\": \"ok\"}\nnot json\n").unwrap();
    let err = one_line_error(&server.run(&["import", bad.to_str().unwrap(), "--group", "/g"]));
    assert!(err.contains("bad.jsonl:2: not a"), "{err}");
}

#[test]
fn requests_are_signed_when_credentials_are_set() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.toml");
    std::fs::write(
        &users,
        r#"[[users]]
name = "admin"
access_key_id = "AKIDADMIN"
secret_access_key = "admin-secret"
policy = '''{"Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}'''
"#,
    )
    .unwrap();
    let server = Server::start_with(&["--credentials", users.to_str().unwrap()]);
    let signed = |secret: &str| {
        server
            .cmd()
            .args(["groups", "--json"])
            .env("AWS_ACCESS_KEY_ID", "AKIDADMIN")
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_REGION", "eu-west-1")
            .output()
            .unwrap()
    };
    let out = signed("admin-secret");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "[]");
    let err = one_line_error(&signed("wrong"));
    assert!(err.contains("InvalidSignatureException"), "{err}");
    one_line_error(&server.run(&["groups"]));
}

#[test]
fn every_subcommand_has_examples_in_its_help() {
    for cmd in [
        "groups", "streams", "tail", "query", "import", "export", "run",
    ] {
        let out = super::lookout().args([cmd, "--help"]).output().unwrap();
        assert!(out.status.success(), "{cmd}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Examples:\n  lookout "), "{cmd}: {text}");
        assert!(text.contains("--endpoint"), "{cmd}: {text}");
    }
}
