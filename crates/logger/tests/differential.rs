//! The direct rendering path against the general one on the same records: persistent and
//! invocation keys (changing, colliding, reserved, needing escapes), strings of every
//! length around the short-string path's limits under keys of every length around the
//! short-key limit, odd floats and integers, every value type, every level, literal
//! messages needing escapes, records with and without a trace id, many fields.
//! Every line must be byte-identical and valid JSON.

use lookout_logger::{CaptureWriter, Clock, LoggerBuilder, LoggerHandle, Profile};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

use crate::util::invocation;

fn values_sweep() {
    let base = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ";
    for n in 0..=40 {
        let plain = &base[..n];
        let mut escaped: String = plain.into();
        escaped.insert(n / 2, '"');
        let unicode: String = "é✓".repeat(n / 3 + 1);
        tracing::info!(
            s = plain,
            e = escaped.as_str(),
            u = unicode.as_str(),
            c = %format_args!("{plain}\n"),
            "len {n}"
        );
    }
    for f in [
        0.0,
        -0.0,
        42.5,
        0.1,
        1e-5,
        9.99e-6,
        123_456.789,
        999_999_999.999_999,
        1e9,
        -3.25,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        0.1 + 0.2,
        1_234_567.000_000_1,
        f64::NAN,
        f64::INFINITY,
    ] {
        tracing::info!(f, neg = -f, "float");
    }
    // Every count of trailing zeros in the six decimals the short float path prints.
    for k in [
        1, 10, 100, 1000, 10_000, 100_000, 120_000, 123_000, 123_400, 123_450, 123_456, 100_001,
        500_000, 999_999, 1_000_000, 7_000_010, 42_500_000,
    ] {
        let f = k as f64 / 1e6;
        tracing::info!(f, neg = -f, "decimal {k}");
    }
    for i in [
        0i64,
        9,
        10,
        99,
        100,
        101,
        999,
        1000,
        12345,
        -1,
        -100,
        i64::MIN,
        i64::MAX,
    ] {
        tracing::info!(i, u = i.unsigned_abs(), "int");
    }
    // Keys around the 32-byte padded-key limit (`"name":` is the name plus 3 bytes), each
    // with values around the 32-byte short-string limit, plain and needing escapes.
    for n in [0, 1, 15, 16, 17, 31, 32, 33, 40] {
        let v = &base[..n];
        let esc = format!("{}\t", &base[..n.saturating_sub(1)]);
        tracing::info!(k = v, "short key {n}");
        tracing::info!(
            abcdefghijklmnopqrstuvwxyz0 = v,
            e = esc.as_str(),
            "30-byte key {n}"
        );
        tracing::info!(abcdefghijklmnopqrstuvwxyz012 = v, "32-byte key {n}");
        tracing::info!(
            abcdefghijklmnopqrstuvwxyz0123 = v,
            e = esc.as_str(),
            "33-byte key {n}"
        );
        tracing::info!(
            abcdefghijklmnopqrstuvwxyz0123456789ABCD = v,
            x = 1.5,
            y = -7,
            "long key {n}"
        );
    }
    tracing::info!(
        big = i128::MIN,
        ubig = u128::MAX,
        yes = true,
        no = false,
        bytes = &b"\x00ab\xff"[..],
        dbg = ?vec!["a\"b", "c"],
        disp = %"tab\there",
        "every value type"
    );
    tracing::info!("a literal message of more than thirty-two bytes, \"quoted\"\n");
    tracing::info!("");
    tracing::info!(only = 1);
    // A message recorded as a `&str` rather than `fmt::Arguments`.
    tracing::info!(message = "a str message", a = 1);
    tracing::info!(message = "a str message of more than thirty-two bytes, \"quoted\"");
    tracing::info!(message = "tab\tinside");
    tracing::warn!(w = 1, "warn");
    tracing::error!(e = 1, "error");
    tracing::debug!(d = 1, "debug (not emitted at INFO)");
    tracing::info!(
        f01 = 1,
        f02 = "b",
        f03 = 3.5,
        f04 = true,
        f05 = "e",
        f06 = 6,
        f07 = "g",
        f08 = 8,
        f09 = "i",
        f10 = 10,
        f11 = "k",
        f12 = 12,
        f13 = "m",
        f14 = 14,
        f15 = "o",
        f16 = 16,
        f17 = "q",
        f18 = 18,
        f19 = "s",
        f20 = 20,
        f21 = "u",
        f22 = 22,
        f23 = "w",
        f24 = 24,
        f25 = "y",
        f26 = 26,
        f27 = "A",
        f28 = 28,
        f29 = "C",
        f30 = 30,
        "many fields"
    );
}

fn keyed_scenario(h: &LoggerHandle) {
    tracing::info!(a = 1, "no keys yet");
    h.append_key("region", "eu-west-1");
    h.append_key("weird \"k\"\n", json!({"nested": [1, 2.5, null, "x\"y"]}));
    tracing::info!(a = 2, "persistent outside an invocation");
    tracing::info!(region = "field", "collides with a persistent key");
    {
        let span = invocation(1).span();
        let _g = span.enter();
        tracing::info!(order_id = "o-1", amount = 0.1, "persistent inside");
        lookout_logger::append_key("tenant", "acme");
        lookout_logger::append_key("region", "from the invocation");
        tracing::info!(order_id = "o-2", "persistent and invocation keys");
        tracing::info!(tenant = "field", "collides with an invocation key");
        lookout_logger::append_key("level", "reserved");
        tracing::info!(x = 1, "reserved invocation key");
        lookout_logger::remove_key("level");
        lookout_logger::set_correlation_id("c \"9\"");
        tracing::info!(x = 2, "after removal, with a correlation id");
        lookout_logger::append_key("tenant", json!(["acme", 2]));
        tracing::info!(x = 3, "changed value");
        h.append_key("added_mid_invocation", 7);
        tracing::info!(x = 4, "persistent key added inside");
        values_sweep();
    }
    {
        let span = invocation(2).correlation_id("c-2").span();
        let _g = span.enter();
        tracing::info!(x = 5, "next invocation: no invocation keys leak");
        lookout_logger::append_key("only_here", "yes");
        tracing::warn!(x = 6, "own key");
    }
    {
        let span = lookout_logger::InvocationContext::new("no-trace-id").span();
        let _g = span.enter();
        tracing::info!(x = 9, "an invocation without a trace id");
        tracing::error!(x = 10, "error without a trace id");
    }
    h.remove_key("region");
    h.remove_key("weird \"k\"\n");
    h.remove_key("added_mid_invocation");
    tracing::info!(x = 7, "persistent keys removed");
    h.append_key("cold_start", "reserved persistent");
    tracing::info!(x = 8, "reserved persistent key");
}

fn lines(builder: LoggerBuilder, direct: bool) -> Vec<String> {
    let out = CaptureWriter::new();
    let layer = builder
        .writer(out.clone())
        .clock(Clock::FixedMicros(1_795_462_840_883_123))
        .direct_rendering(direct)
        .build();
    let handle = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        keyed_scenario(&handle)
    });
    out.lines()
}

#[test]
fn direct_and_general_paths_agree_with_appended_keys_and_varied_values() {
    for profile in [
        Profile::Powertools,
        Profile::PowertoolsPython,
        Profile::PowertoolsTs,
        Profile::Lambda,
    ] {
        for location in [true, false] {
            let b = || {
                LoggerBuilder::default()
                    .profile(profile)
                    .location(location)
                    .key("from_builder", "persistent \"b\"")
                    .env_vars([("POWERTOOLS_SERVICE_NAME", "svc")])
            };
            let direct = lines(b(), true);
            let general = lines(b(), false);
            assert!(direct.len() > 80, "{profile:?}: {}", direct.len());
            assert_eq!(direct.len(), general.len());
            for (d, g) in direct.iter().zip(&general) {
                assert_eq!(d, g, "{profile:?} location={location}");
                serde_json::from_str::<serde_json::Value>(d).unwrap();
            }
        }
    }
}
