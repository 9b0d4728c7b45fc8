//! A horizontal bar chart of `stats … by bin()` results for the terminal.

/// Eighth blocks, so bars are drawn at eight times the column resolution.
const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/// The chart of a result table, if it has a `bin(…)` column and a numeric column to plot;
/// `width` is the terminal width.
pub(crate) fn bar_chart(columns: &[String], rows: &[Vec<String>], width: usize) -> Option<String> {
    let bin = columns.iter().position(|c| c.starts_with("bin("))?;
    let numeric = |i: usize| {
        i != bin
            && rows
                .iter()
                .all(|r| r.get(i).is_some_and(|v| v.parse::<f64>().is_ok()))
    };
    let value_col = (0..columns.len()).find(|&i| numeric(i))?;
    if rows.is_empty() {
        return None;
    }
    // Group-by keys label the bars; other aggregates are left to the table.
    let keys: Vec<usize> = (0..columns.len())
        .filter(|&i| i != bin && !numeric(i))
        .collect();
    let mut points: Vec<(String, f64, &str)> = rows
        .iter()
        .map(|r| {
            let mut label = short_time(r.get(bin).map_or("", String::as_str)).to_string();
            for &k in &keys {
                if let Some(v) = r.get(k).filter(|v| !v.is_empty()) {
                    label.push(' ');
                    label.push_str(v);
                }
            }
            let raw = r.get(value_col).map_or("0", String::as_str);
            (label, raw.parse::<f64>().unwrap_or(0.0), raw)
        })
        .collect();
    points.sort_by(|a, b| a.0.cmp(&b.0));
    let max = points.iter().map(|p| p.1).fold(0.0_f64, f64::max);
    let label_w = points
        .iter()
        .map(|p| p.0.chars().count())
        .max()
        .unwrap_or(0);
    let value_w = points.iter().map(|p| p.2.len()).max().unwrap_or(0);
    let bar_w = width.saturating_sub(label_w + value_w + 4).clamp(10, 100);
    let mut out = format!("{} by {}\n", columns[value_col], columns[bin]);
    for (label, v, raw) in &points {
        let eighths = if max > 0.0 {
            ((v.max(0.0) / max) * (bar_w * 8) as f64).round() as usize
        } else {
            0
        };
        let mut bar = "█".repeat(eighths / 8);
        if eighths % 8 > 0 {
            bar.push(EIGHTHS[eighths % 8]);
        }
        let pad = bar_w.saturating_sub(bar.chars().count());
        out.push_str(&format!(
            "{label:<label_w$} │{bar}{} {raw:>value_w$}\n",
            " ".repeat(pad)
        ));
    }
    Some(out)
}

/// `2026-11-29 19:05:00.000` → `2026-11-29 19:05`: bins rarely need seconds.
fn short_time(v: &str) -> &str {
    v.strip_suffix(":00.000").unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_bins_in_time_order_scaled_to_the_largest() {
        let cols = vec!["bin(5m)".to_string(), "count(*)".to_string()];
        let rows = vec![
            vec!["2026-11-29 10:05:00.000".to_string(), "5".to_string()],
            vec!["2026-11-29 10:00:00.000".to_string(), "10".to_string()],
        ];
        let chart = bar_chart(&cols, &rows, 40).unwrap();
        let lines: Vec<&str> = chart.lines().collect();
        assert_eq!(lines[0], "count(*) by bin(5m)");
        assert!(lines[1].starts_with("2026-11-29 10:00 │████"), "{chart}");
        assert!(lines[2].starts_with("2026-11-29 10:05 │"), "{chart}");
        let full = lines[1].matches('█').count();
        let half = lines[2].matches('█').count();
        assert!(
            full >= 10 && half * 2 >= full - 1 && half * 2 <= full + 1,
            "{chart}"
        );
        assert!(lines[1].ends_with(" 10"));
    }

    #[test]
    fn keys_label_bars_and_other_aggregates_stay_in_the_table() {
        let cols = ["bin(1h)", "level", "n", "avg"].map(String::from).to_vec();
        let rows = vec![
            ["2026-11-29 10:00:00.000", "ERROR", "2", "1.5"]
                .map(String::from)
                .to_vec(),
            ["2026-11-29 10:00:00.000", "INFO", "4", "7.25"]
                .map(String::from)
                .to_vec(),
        ];
        let chart = bar_chart(&cols, &rows, 60).unwrap();
        let lines: Vec<&str> = chart.lines().collect();
        assert_eq!(lines[0], "n by bin(1h)");
        assert!(lines[1].starts_with("2026-11-29 10:00 ERROR │"), "{chart}");
        assert!(lines[2].starts_with("2026-11-29 10:00 INFO  │"), "{chart}");
        assert!(!chart.contains("7.25"), "{chart}");
    }

    #[test]
    fn no_chart_without_bins_or_numbers() {
        let cols = vec!["level".to_string(), "count(*)".to_string()];
        assert!(bar_chart(&cols, &[vec!["INFO".into(), "3".into()]], 80).is_none());
        let cols = vec!["bin(1h)".to_string(), "level".to_string()];
        assert!(bar_chart(&cols, &[vec!["t".into(), "INFO".into()]], 80).is_none());
    }
}
