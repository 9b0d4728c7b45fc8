//! `lookout query` against the server's Logs Insights.

use super::{Server, one_line_error};

const RANGE: [&str; 4] = [
    "--start",
    "2026-11-01T00:00:00Z",
    "--end",
    "2026-11-01T02:00:00Z",
];

fn query(server: &Server, q: &str, extra: &[&str]) -> String {
    let mut args = vec!["query", q, "-g", "/q"];
    args.extend(RANGE);
    args.extend(extra);
    server.ok(&args)
}

#[test]
fn query_prints_tables_json_csv_and_a_chart_for_bins() {
    let server = Server::start();
    server.import_generated("/q", 3000, 10);

    let table = query(&server, "stats count(*) as n by level | sort n desc", &[]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("level") && lines[0].contains(" n"),
        "{table}"
    );
    assert!(lines.iter().any(|l| l.starts_with("INFO ")), "{table}");
    assert!(!table.contains('│'), "no chart without bin(): {table}");

    let json: serde_json::Value = serde_json::from_str(&query(
        &server,
        "stats count(*) by bin(10m)",
        &["--format", "json"],
    ))
    .unwrap();
    let rows = json.as_array().unwrap();
    assert!(
        (6..=7).contains(&rows.len()),
        "an hour in 10-minute bins: {json}"
    );
    let total: u64 = rows
        .iter()
        .map(|r| r["count(*)"].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 3000);

    let chart = query(&server, "stats count(*) by bin(10m)", &[]);
    let bars: Vec<&str> = chart.lines().filter(|l| l.contains(" │")).collect();
    assert_eq!(bars.len(), rows.len(), "one bar per bin: {chart}");
    assert!(chart.contains("count(*) by bin(10m)"), "{chart}");
    assert!(bars.iter().any(|b| b.contains('█')), "{chart}");

    let csv = query(
        &server,
        "fields @timestamp, @message | filter @message like /REPORT/ | limit 3",
        &["--format", "csv"],
    );
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("@timestamp,@message"));
    let rest: Vec<&str> = lines.collect();
    assert!(rest.len() >= 3, "{csv}");
    assert!(rest[0].starts_with("2026-11-01 "), "{csv}");
    assert!(
        csv.contains("\"REPORT RequestId:"),
        "messages with tabs or commas are quoted: {csv}"
    );
}

#[test]
fn query_errors_are_one_line() {
    let server = Server::start();
    server.import_generated("/q", 100, 11);
    let mut args = vec!["query", "stats count(*) by", "-g", "/q"];
    args.extend(RANGE);
    let err = one_line_error(&server.run(&args));
    assert!(err.contains("MalformedQueryException"), "{err}");
    let err = one_line_error(&server.run(&[
        "query",
        "fields @message",
        "-g",
        "/q",
        "--start",
        "2026-11-02T00:00:00Z",
        "--end",
        "2026-11-01T00:00:00Z",
    ]));
    assert!(err.contains("before its start"), "{err}");
}
