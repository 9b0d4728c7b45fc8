//! The build path's output is pinned: segments built from generator events must keep the
//! exact bytes they had before the build was optimized (serde flattening, every token of
//! every message hashed), so a faster build cannot change what is on disk.

use std::collections::BTreeMap;

use super::*;

/// Segments as a flush cuts them (one per group and hour, streams in name order, rows in
/// time order), from `events` generator events over `span_min` minutes.
fn generator_segments(events: u64, span_min: i64) -> Vec<Vec<(u64, Vec<Row>)>> {
    let cfg = lookout_testkit::GenConfig {
        events,
        seed: 42,
        span_ms: span_min * 60_000,
        ..Default::default()
    };
    let mut segs: BTreeMap<(String, i64), BTreeMap<String, Vec<Row>>> = BTreeMap::new();
    for (i, e) in lookout_testkit::Generator::new(cfg).enumerate() {
        segs.entry((e.log_group, e.timestamp.div_euclid(3_600_000)))
            .or_default()
            .entry(e.log_stream)
            .or_default()
            .push(Row {
                ts: e.timestamp,
                ingest: e.timestamp + 100,
                seq: i as u64 + 1,
                msg: e.message,
            });
    }
    segs.into_values()
        .map(|streams| {
            streams
                .into_values()
                .enumerate()
                .map(|(i, mut rows)| {
                    rows.sort_by_key(Row::key);
                    (i as u64 + 1, rows)
                })
                .collect()
        })
        .collect()
}

/// Every segment of `segs` built with the fast flattener and per-block token caches, and
/// with the reference path (serde flattening, every token of every message hashed).
fn both_ways(segs: &[Vec<(u64, Vec<Row>)>], limits: BlockLimits) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let build_all = || -> Vec<Vec<u8>> {
        segs.iter()
            .map(|seg| {
                let streams: Vec<(u64, &[Row])> =
                    seg.iter().map(|(s, r)| (*s, r.as_slice())).collect();
                build(1, &streams, limits).unwrap().bytes
            })
            .collect()
    };
    let fast = build_all();
    crate::fields::SERDE_ONLY.set(true);
    let reference = build_all();
    crate::fields::SERDE_ONLY.set(false);
    (fast, reference)
}

fn assert_same(segs: &[Vec<(u64, Vec<Row>)>], limits: BlockLimits) {
    let (fast, reference) = both_ways(segs, limits);
    assert_eq!(fast.len(), reference.len());
    for (i, (a, b)) in fast.iter().zip(&reference).enumerate() {
        assert!(
            a == b,
            "segment {i} differs ({} vs {} bytes)",
            a.len(),
            b.len()
        );
    }
}

const ONE_BLOCK: BlockLimits = BlockLimits {
    max_events: 8192,
    max_bytes: 2 << 20,
};
/// Many blocks per segment: block blooms, the segment dictionary, caches reset per block.
const MANY_BLOCKS: BlockLimits = BlockLimits {
    max_events: 64,
    max_bytes: 16 << 10,
};

#[test]
fn generator_segments_are_byte_identical_to_the_reference_build() {
    let segs = generator_segments(20_000, 10);
    assert_same(&segs, ONE_BLOCK);
    assert_same(&segs, MANY_BLOCKS);
}

#[test]
fn adversarial_json_segments_are_byte_identical_to_the_reference_build() {
    let messages = [
        r#"{"level":"INFO","a":{"b":1},"a.b":2,"n":1.5}"#,
        r#"{"a.b":3,"a":{"b":"x"},"level":"INFO"}"#,
        r#"{"level":"INFO","level":"WARN","x":[1,{"y":"z"}],"x":null}"#,
        r#"{"s":"esc\"aped\u00e9\n","t":"RequestId 1a2b3c4d-aaaa-bbbb"}"#,
        r#"{"s":"esc\"aped\u00e9\n","t":"RequestId 1a2b3c4d-aaaa-bbbb"}"#,
        r#"{"s":"esc\u0022aped\u00e9\n"}"#,
        "\u{a0}{\"ws\":\"non-ascii whitespace\"}",
        r#"{"k\u0065y":"escaped key","key":"plain key"}"#,
        r#"{"big":1e400,"level":"ERROR"}"#,
        r#"{"n":1e2,"m":0.000001,"o":12.50,"p":-0}"#,
        r#"{"deep":[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]}"#,
        r#"{"broken":"value"#,
        r#"{"x":1}trailing"#,
        "plain text RequestId: 1a2b3c4d-aaaa-bbbb-cccc-0123456789ab",
        r#"{"long":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-tail"}"#,
        r#"{"long":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-tail"}"#,
        r#"{"same":"RequestId","other":"RequestId","RequestId":"same"}"#,
        r#"{"n":5,"n2":"5","level":"INFO"}"#,
        r#"{"n":"5","n2":5,"level":"DEBUG"}"#,
    ];
    let rows: Vec<Row> = (0..600)
        .map(|i| Row {
            ts: 1_000 + i as i64,
            ingest: 2_000,
            seq: i as u64 + 1,
            msg: messages[(i * 7) % messages.len()].to_owned(),
        })
        .collect();
    let segs = vec![vec![(1, rows[..250].to_vec()), (2, rows[250..].to_vec())]];
    assert_same(&segs, ONE_BLOCK);
    assert_same(&segs, MANY_BLOCKS);
    assert_same(
        &segs,
        BlockLimits {
            max_events: 5,
            max_bytes: 1 << 20,
        },
    );
}

/// CRC-32 of every segment's bytes in order, and their total length.
fn digest(segs: &[Vec<(u64, Vec<Row>)>], limits: BlockLimits) -> (u32, usize) {
    digest_with(segs, limits, build)
}

type Builder = fn(u64, &[(u64, &[Row])], BlockLimits) -> Result<super::Built, StorageError>;

fn digest_with(segs: &[Vec<(u64, Vec<Row>)>], limits: BlockLimits, b: Builder) -> (u32, usize) {
    let mut crc = crc32fast::Hasher::new();
    let mut len = 0;
    for seg in segs {
        let streams: Vec<(u64, &[Row])> = seg.iter().map(|(s, r)| (*s, r.as_slice())).collect();
        let bytes = b(1, &streams, limits).unwrap().bytes;
        crc.update(&bytes);
        len += bytes.len();
    }
    (crc.finalize(), len)
}

/// The bytes of format version 6 as first written (CRC-32, length), pinned: a speed change to the build
/// (scratch buffers and compression contexts reused across blocks and segments, cheaper
/// stamp detection, direct writes) must not move a byte. Building twice on one thread
/// checks that nothing a build leaves behind for the next one changes its output. A format
/// change (a new version) or a new zstd release legitimately changes them: re-pin then, with
/// the new values this test prints, in the commit that makes that change.
#[test]
fn generator_segments_keep_their_pinned_bytes() {
    let segs = generator_segments(20_000, 10);
    for _ in 0..2 {
        assert_eq!(
            digest(&segs, ONE_BLOCK),
            (2_682_330_418, 1_675_275),
            "one block per segment: segment bytes changed (see above)"
        );
        assert_eq!(
            digest(&segs, MANY_BLOCKS),
            (2_928_969_659, 3_396_144),
            "many blocks per segment: segment bytes changed (see above)"
        );
        assert_eq!(
            digest_with(&segs, MANY_BLOCKS, super::build_unindexed),
            (3_518_037_360, 1_818_098),
            "unindexed, many blocks per segment: segment bytes changed (see above)"
        );
    }
}
