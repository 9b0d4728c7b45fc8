use super::*;

fn rows(n: usize, seq0: u64) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let msg = if i % 3 == 0 {
                format!(
                    r#"{{"level":"{}","requestId":"req-{}","n":{i},"nested":{{"a":[1,"x"]}}}}"#,
                    if i % 2 == 0 { "INFO" } else { "ERROR" },
                    i / 4
                )
            } else {
                format!("plain line {i} RequestId: abc{i}")
            };
            Row {
                ts: 1000 + (i as i64 / 2),
                ingest: 5000 + i as i64,
                seq: seq0 + i as u64,
                msg,
            }
        })
        .collect()
}

/// Lines that write their own time as text, as Lambda's runtime and Python logging do,
/// some of it a little off the event's timestamp.
fn stamped_rows(n: usize, seq0: u64) -> Vec<Row> {
    (0..n)
        .map(|i| {
            // 2026-11-01T02:01:08.486Z plus i seconds.
            let ts = 1_793_498_468_486 + i as i64 * 1000;
            let s = 8 + i % 50;
            let msg = if i % 2 == 0 {
                format!("[INFO]\t2026-11-01T02:01:{s:02}.486Z\tRequestId: req-{i}\tdone {i}\n")
            } else {
                format!(
                    r#"{{"level":"ERROR","timestamp":"2026-11-01 02:01:{s:02},5{:02}+0000"}}"#,
                    i % 100
                )
            };
            Row {
                ts,
                ingest: ts + 7,
                seq: seq0 + i as u64,
                msg,
            }
        })
        .collect()
}

/// A deterministic lowercase UUID.
fn uuid(i: usize) -> String {
    let x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let y = x.rotate_left(17) ^ 0x5bd1_e995;
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        y & 0xfff,
        y >> 16
    )
}

/// JSON lines whose request ids (UUIDs, shared by `per_id` lines) are a dictionary column.
fn uuid_rows(n: usize, seq0: u64, per_id: usize) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            ts: 2000 + i as i64,
            ingest: 9000,
            seq: seq0 + i as u64,
            msg: format!(
                r#"{{"level":"{}","function_request_id":"{}","message":"RequestId {} step {i}"}}"#,
                if i % 5 == 0 { "ERROR" } else { "INFO" },
                uuid(i / per_id),
                uuid(i / per_id),
            ),
        })
        .collect()
}

fn build_two_streams() -> Built {
    let a = rows(50, 1);
    let b = rows(20, 100);
    build(
        7,
        &[(1, &a), (2, &b)],
        BlockLimits {
            max_events: 16,
            max_bytes: 1 << 20,
        },
    )
    .unwrap()
}

#[test]
fn round_trip_every_column() {
    let built = build_two_streams();
    assert_eq!(verify_segment(&built.bytes).unwrap(), 70);
    let footer = &built.bytes[built.bytes.len() - FOOTER_LEN..];
    let f = decode_footer(footer).unwrap();
    let (off, len) = (f.offset, f.len);
    assert_eq!((off, len), (built.index_offset, built.index_len));
    let ix = decode_index(
        &built.bytes[off as usize..(off + len) as usize],
        Some(f.crc),
        off,
        f.grammar,
    )
    .unwrap();
    assert_eq!(ix, built.index);
    // 70 rows in blocks of 16 across both streams; the fourth block holds both.
    assert_eq!(ix.blocks.len(), 5);
    let runs: Vec<(u64, u32)> = ix
        .blocks
        .iter()
        .flat_map(|b| b.runs.iter().map(|r| (r.stream_id, r.count)))
        .collect();
    assert_eq!(runs, [(1, 16), (1, 16), (1, 16), (1, 2), (2, 14), (2, 6)]);
    assert_eq!((ix.min_ts, ix.max_ts, ix.events), (1000, 1024, 70));
    let want_fields = vec!["level".to_owned(), "n".to_owned(), "missing".to_owned()];
    let want = Want {
        keys: true,
        ingest: true,
        messages: true,
        fields: &want_fields,
        contains: &[],
        contains_stored: false,
    };
    let expect = rows(50, 1);
    let mut i = 0;
    for blk in ix.blocks.iter() {
        let d = decode_block(ix.dict.as_deref(), blk, &built.bytes, 0, &want).unwrap();
        let Some(run) = blk.runs.iter().find(|r| r.stream_id == 1) else {
            continue;
        };
        assert_eq!(
            blk.minutes.iter().map(|&m| u64::from(m)).sum::<u64>(),
            blk.count
        );
        for (j, m) in d.messages.as_ref().unwrap()[run.rows()].iter().enumerate() {
            let j = j + run.start as usize;
            let e = &expect[i];
            assert_eq!(
                (d.ts[j], d.ingest[j], d.seq[j], m.as_str()),
                (e.ts, e.ingest, e.seq, &*e.msg)
            );
            let level = d.fields[0].as_ref().unwrap().get(j);
            let n = d.fields[1].as_ref().unwrap().get(j);
            if i % 3 == 0 {
                assert_eq!(level, Some(if i % 2 == 0 { "INFO" } else { "ERROR" }));
                assert_eq!(n, Some(i.to_string().as_str()));
            } else {
                assert_eq!((level, n), (None, None));
            }
            assert!(d.fields[2].is_none());
            i += 1;
        }
        let n_meta = blk.field("n").unwrap();
        assert!(n_meta.numeric.is_some());
        assert!(blk.bloom.may_contain(crate::bloom::token_hash("RequestId")));
        let seg_bloom = ix.bloom.as_ref().unwrap();
        assert!(seg_bloom.may_contain(crate::bloom::token_hash("RequestId")));
        assert!(!seg_bloom.may_contain(crate::bloom::token_hash("NotInTheSegment")));
    }
    assert_eq!(i, 50);
}

/// A field predicate selects its rows from the field's code planes; the other columns are
/// read at those rows only, keys left out when not wanted, and a corrupt chunk read
/// without checksums gives an error or an answer, never a panic.
#[test]
fn gated_decoding_reads_the_selected_rows() {
    let built = build_two_streams();
    let ix = &built.index;
    let fields = ["level".to_owned(), "requestId".to_owned()];
    let expect: Vec<Row> = rows(50, 1).into_iter().chain(rows(20, 100)).collect();
    let mut seen = 0;
    for keys in [true, false] {
        let want = Want {
            keys,
            ingest: false,
            messages: true,
            fields: &fields,
            contains: &[],
            contains_stored: false,
        };
        let mut at = 0;
        for blk in &ix.blocks {
            let block_rows = &expect[at..at + blk.count as usize];
            at += blk.count as usize;
            let bufs = [(0, &built.bytes[..])];
            let gate = [(0, "ERROR")];
            let got = decode_block_gated(ix.dict.as_deref(), blk, &bufs, &want, true, &gate, None)
                .unwrap();
            let errors: Vec<u32> = (0..block_rows.len() as u32)
                .filter(|&i| block_rows[i as usize].msg.contains(r#""level":"ERROR""#))
                .collect();
            let Some(d) = got else {
                assert!(errors.is_empty());
                continue;
            };
            assert_eq!(d.selected.as_deref(), Some(&errors[..]));
            // Stamped messages need the timestamps even without keys.
            assert_eq!(d.ts.len(), block_rows.len());
            assert_eq!(d.seq.len(), if keys { block_rows.len() } else { 0 });
            let msgs = d.messages.as_ref().unwrap();
            for (i, row) in block_rows.iter().enumerate() {
                let level = d.fields[0].as_ref().unwrap();
                let req = d.fields[1].as_ref().unwrap();
                if errors.contains(&(i as u32)) {
                    seen += 1;
                    assert_eq!(msgs[i], row.msg);
                    assert_eq!(level.get(i), Some("ERROR"));
                    let id = row
                        .msg
                        .split("req-")
                        .nth(1)
                        .and_then(|s| s.split('"').next());
                    assert_eq!(req.get(i).and_then(|v| v.strip_prefix("req-")), id);
                } else {
                    // Rows the gate ruled out are neither materialized nor coded.
                    assert_eq!(
                        (msgs[i].as_str(), level.get(i), req.get(i)),
                        ("", None, None)
                    );
                }
            }
            let absent = [(0, "FATAL")];
            let none =
                decode_block_gated(ix.dict.as_deref(), blk, &bufs, &want, true, &absent, None);
            assert!(none.unwrap().is_none());
        }
    }
    assert!(seen > 4, "{seen}");
    // Flipped bytes with checksums off: an error or an answer, never a panic.
    let want = Want {
        keys: false,
        ingest: false,
        messages: false,
        fields: &fields,
        contains: &[],
        contains_stored: false,
    };
    for pos in HEADER_LEN..built.index_offset as usize {
        let mut bad = built.bytes.clone();
        bad[pos] ^= 0x3c;
        for blk in &ix.blocks {
            let bufs = [(0, &bad[..])];
            for gate in [(0, "ERROR"), (1, "req-3")] {
                let _ =
                    decode_block_gated(ix.dict.as_deref(), blk, &bufs, &want, false, &[gate], None);
            }
        }
    }
}

#[test]
fn every_single_byte_corruption_is_detected_or_harmless() {
    let built = build_two_streams();
    for pos in 0..built.bytes.len() {
        let mut bad = built.bytes.clone();
        bad[pos] ^= 0x5a;
        // Checksums cover every byte except the footer's own fields, which are cross-checked.
        assert!(verify_segment(&bad).is_err(), "flip at {pos} not detected");
    }
    for cut in 0..built.bytes.len() {
        assert!(verify_segment(&built.bytes[..cut]).is_err());
    }
}

/// Segments written by every format version must stay readable forever. Each fixture was
/// written by this test with `LOOKOUT_REGENERATE=1` when its version was current (only the
/// current version's fixture can be regenerated); never regenerate an older version's.
#[test]
fn fixtures_of_every_version_stay_readable() {
    for version in MIN_VERSION..=VERSION {
        check_fixture(version);
    }
}

fn check_fixture(version: u16) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/data/segment-v{version}.seg"));
    let a = rows(500, 1);
    let b = rows(9, 500);
    // From version 4 on, a third stream writes its timestamps as text.
    let c = if version >= 4 {
        stamped_rows(40, 600)
    } else {
        Vec::new()
    };
    // From version 5 on, a fourth stream's request ids are a UUID dictionary.
    let d = if version >= 5 {
        uuid_rows(60, 700, 4)
    } else {
        Vec::new()
    };
    if version == VERSION && std::env::var_os("LOOKOUT_REGENERATE").is_some() {
        let built = build(
            3,
            &[(1, &a), (2, &b), (3, &c), (4, &d)],
            BlockLimits {
                max_events: 64,
                max_bytes: 1 << 20,
            },
        )
        .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &built.bytes).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]), version);
    let events = 509 + c.len() as u64 + d.len() as u64;
    assert_eq!(verify_segment(&bytes).unwrap(), events);
    let footer = &bytes[bytes.len() - FOOTER_LEN..];
    let f = decode_footer(footer).unwrap();
    let (off, len) = (f.offset, f.len);
    let ix = decode_index(
        &bytes[off as usize..(off + len) as usize],
        Some(f.crc),
        off,
        f.grammar,
    )
    .unwrap();
    // Versions 1 and 2 cut blocks per stream, version 3 across streams.
    let blocks = match version {
        1 | 2 => 8 + 1,
        3 => 8,
        4 => 9,
        _ => 10,
    };
    assert_eq!(
        (ix.group_id, ix.events, ix.blocks.len()),
        (3, events, blocks)
    );
    assert!(
        ix.dict.is_some(),
        "the fixture covers dictionary compression"
    );
    // The blooms of every version still admit what the segment holds.
    let token = crate::bloom::token_hash("RequestId");
    let field = crate::bloom::field_hash("level", "ERROR");
    for bloom in ix.bloom.iter().chain(ix.blocks.iter().map(|b| &b.bloom)) {
        assert!(bloom.may_contain(token) && bloom.may_contain(field));
    }
    let fields = ["level".to_owned(), "requestId".to_owned()];
    let want = Want {
        keys: true,
        ingest: true,
        messages: true,
        fields: &fields,
        contains: &[],
        contains_stored: false,
    };
    let mut got = Vec::new();
    let mut levels = Vec::new();
    for blk in &ix.blocks {
        let d = decode_block(ix.dict.as_deref(), blk, &bytes, 0, &want).unwrap();
        let level = d.fields[0].clone().unwrap();
        for (i, m) in d.messages.unwrap().into_iter().enumerate() {
            levels.push(level.get(i).map(str::to_owned));
            got.push(Row {
                ts: d.ts[i],
                ingest: d.ingest[i],
                seq: d.seq[i],
                msg: m,
            });
        }
    }
    if version >= 5 {
        let uuid_chunks = ix
            .blocks
            .iter()
            .filter_map(|b| b.field("function_request_id")?.chunk)
            .filter(|c| {
                open_chunk(&[(0, &bytes[..])], c, ix.dict.as_deref(), true, FIELD)
                    .is_ok_and(|raw| raw.first() == Some(&3))
            })
            .count();
        assert!(uuid_chunks > 0, "the fixture covers UUID dictionaries");
    }
    let expect: Vec<Row> = a.into_iter().chain(b).chain(c).chain(d).collect();
    let expect_levels: Vec<Option<String>> = expect
        .iter()
        .map(|r| crate::fields::field_of(&r.msg, "level"))
        .collect();
    assert_eq!(got, expect);
    assert_eq!(levels, expect_levels, "version {version} field column");
}

/// Request ids that are UUIDs are stored as 16 bytes each (encoding 3), read back as
/// text, found by a field predicate, and still serve as the messages' prefix.
#[test]
fn uuid_dictionaries_round_trip_and_stay_in_the_prefix() {
    let rows = uuid_rows(2000, 1, 10);
    let built = build(
        1,
        &[(1, &rows)],
        BlockLimits {
            max_events: 1000,
            max_bytes: 1 << 20,
        },
    )
    .unwrap();
    assert_eq!(verify_segment(&built.bytes).unwrap(), 2000);
    let ix = &built.index;
    let fields = ["function_request_id".to_owned(), "level".to_owned()];
    let want = Want {
        keys: true,
        ingest: false,
        messages: true,
        fields: &fields,
        contains: &[],
        contains_stored: false,
    };
    let mut at = 0;
    let mut text_bytes = 0;
    for blk in &ix.blocks {
        let meta = blk.field("function_request_id").unwrap();
        assert!(
            meta.in_prefix,
            "100 ids of 36 characters are prefix material"
        );
        let c = meta.chunk.unwrap();
        let raw = open_chunk(
            &[(0, &built.bytes[..])],
            &c,
            ix.dict.as_deref(),
            true,
            FIELD,
        )
        .unwrap();
        assert_eq!(raw[0], 3, "a UUID dictionary");
        let mut text = Vec::new();
        prefix_text(&raw, &mut text).unwrap();
        assert_eq!(text.len(), 100 * 36);
        text_bytes += raw.len();
        let d = decode_block(ix.dict.as_deref(), blk, &built.bytes, 0, &want).unwrap();
        let ids = d.fields[0].as_ref().unwrap();
        for (i, m) in d.messages.as_ref().unwrap().iter().enumerate() {
            assert_eq!(m, &rows[at + i].msg);
            assert_eq!(ids.get(i), Some(uuid((at + i) / 10).as_str()));
        }
        // A predicate on one id selects its ten rows; another value, none.
        let bufs = [(0, &built.bytes[..])];
        let id = uuid(at / 10 + 3);
        let gate = [(0, id.as_str())];
        let got = decode_block_gated(ix.dict.as_deref(), blk, &bufs, &want, true, &gate, None)
            .unwrap()
            .unwrap();
        assert_eq!(got.selected, Some((30..40).collect::<Vec<u32>>()));
        let col = got.fields[0].as_ref().unwrap();
        assert_eq!(col.get(35), Some(id.as_str()));
        assert_eq!((col.get(0), col.code_of(&uuid(at / 10))), (None, u32::MAX));
        for other in [uuid(5000), id.to_uppercase(), "x".to_owned()] {
            let gate = [(0, other.as_str())];
            let none = decode_block_gated(ix.dict.as_deref(), blk, &bufs, &want, true, &gate, None);
            assert!(none.unwrap().is_none(), "{other}");
        }
        at += blk.count as usize;
    }
    assert_eq!(at, 2000);
    // 16 bytes per id and a code plane, against 37 per id as text.
    assert!(text_bytes < 200 * (16 + 1) + 4100, "{text_bytes}");
    // Truncated or cut tables are errors, not panics.
    for cut in [&[3u8][..], &[3, 2, 0][..], &[3, 200][..]] {
        assert!(prefix_text(cut, &mut Vec::new()).is_err());
        assert!(parse_field(cut.to_vec(), 1).is_err());
    }
}

/// The fuzz target's segment entry, over UUID dictionaries, with one flipped byte at
/// every position of an unindexed and of an indexed image: an error or a count, never a
/// panic (its gated decoding included).
#[test]
fn fuzz_entry_survives_flips_over_uuid_segments() {
    let msgs: Vec<String> = uuid_rows(12, 1, 2).into_iter().map(|r| r.msg).collect();
    let msgs: Vec<&str> = msgs.iter().map(String::as_str).collect();
    assert_eq!(fuzz_segment(&msgs, &[]).unwrap(), 12);
    assert_eq!(fuzz_segment(&msgs, &[(0, 0)]).unwrap(), 12);
    let (mut unindexed, mut indexed) = (0, 0);
    // Positions past the end of the image wrap around it; a second, empty flip selects
    // the indexed image.
    for pos in (0..6000).step_by(3) {
        unindexed += usize::from(fuzz_segment(&msgs, &[(pos, 0x41)]).is_err());
        indexed += usize::from(fuzz_segment(&msgs, &[(pos, 0x41), (0, 0)]).is_err());
    }
    assert!(unindexed > 0 && indexed > 0);
}

#[test]
fn dictionary_compression_round_trips_and_pays_off() {
    let a = rows(3000, 1);
    let limits = BlockLimits {
        max_events: 20,
        max_bytes: 1 << 20,
    };
    let with = build(1, &[(1, &a)], limits).unwrap();
    assert!(with.index.dict.is_some());
    assert_eq!(verify_segment(&with.bytes).unwrap(), 3000);
    let raw: usize = a.iter().map(|r| r.msg.len()).sum();
    let packed: u64 = with.index.blocks.iter().map(|b| b.msg.len).sum();
    assert!(
        (packed as usize) * 4 < raw,
        "small blocks compress against the dictionary: {packed} of {raw}"
    );
}

/// An unindexed segment (version 6 flag) as first written stays readable: the flag is
/// read back, its blocks carry no field directory or bloom, and every row, stamped
/// timestamps included, comes back from the messages and key columns. Regenerated only
/// with `LOOKOUT_REGENERATE=1` while version 6 is current.
#[test]
fn unindexed_fixture_stays_readable() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/segment-v6-unindexed.seg");
    let (a, b, c) = (rows(500, 1), rows(9, 500), stamped_rows(40, 600));
    if VERSION == 6 && std::env::var_os("LOOKOUT_REGENERATE").is_some() {
        let limits = BlockLimits {
            max_events: 64,
            max_bytes: 1 << 20,
        };
        let built = build_unindexed(3, &[(1, &a), (2, &b), (3, &c)], limits).unwrap();
        std::fs::write(&path, &built.bytes).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]), 6);
    assert_eq!(verify_segment(&bytes).unwrap(), 549);
    let f = decode_footer(&bytes[bytes.len() - FOOTER_LEN..]).unwrap();
    let ix = decode_index(
        &bytes[f.offset as usize..(f.offset + f.len) as usize],
        Some(f.crc),
        f.offset,
        f.grammar,
    )
    .unwrap();
    assert!(!ix.indexed && ix.bloom.is_none() && ix.dict.is_none());
    assert_eq!((ix.group_id, ix.events, ix.blocks.len()), (3, 549, 9));
    let want = Want {
        keys: true,
        ingest: true,
        messages: true,
        fields: &[],
        contains: &[],
        contains_stored: false,
    };
    let mut got = Vec::new();
    for blk in &ix.blocks {
        assert!(!blk.indexed && blk.fields.is_empty());
        assert!(blk.field_in_messages("level") && blk.may_have_field("level"));
        let d = decode_block(None, blk, &bytes, 0, &want).unwrap();
        for (i, m) in d.messages.unwrap().into_iter().enumerate() {
            got.push(Row {
                ts: d.ts[i],
                ingest: d.ingest[i],
                seq: d.seq[i],
                msg: m,
            });
        }
    }
    let expect: Vec<Row> = a.into_iter().chain(b).chain(c).collect();
    assert_eq!(got, expect);
}

/// A flags byte with an unknown bit is corruption, not an unindexed segment.
#[test]
fn unknown_index_flags_are_rejected() {
    let rows = rows(20, 1);
    let limits = BlockLimits {
        max_events: 64,
        max_bytes: 1 << 20,
    };
    let built = build_unindexed(1, &[(1, &rows)], limits).unwrap();
    let mut ix_bytes = Vec::new();
    encode_index(&built.index, &[], &mut ix_bytes);
    // group id, 2 timestamps, 2 sequences, events and raw bytes are varints before it.
    let mut r = Reader::new(&ix_bytes, "test");
    r.varint().unwrap();
    r.ivarint().unwrap();
    r.ivarint().unwrap();
    for _ in 0..4 {
        r.varint().unwrap();
    }
    let at = ix_bytes.len() - r.remaining();
    assert_eq!(ix_bytes[at], FLAG_UNINDEXED);
    ix_bytes[at] |= 2;
    let mut region = vec![0u8; 8];
    region.extend_from_slice(&ix_bytes);
    let err = decode_index(&region, None, built.index_offset, 6).unwrap_err();
    assert!(err.to_string().contains("unknown index flags"), "{err}");
}
