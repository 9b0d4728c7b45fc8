//! Segment and WAL decoders on untrusted bytes: raw images, and valid segments with
//! mutations applied behind the checksums. Decoding must fail cleanly, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 4 {
        3 => {
            let _ = lookout_storage::fuzz_wal_payload(rest);
        }
        0 => {
            let _ = lookout_storage::verify_segment(rest);
        }
        1 => {
            let (batches, _err) = lookout_storage::decode_wal(rest);
            let _ = batches.iter().map(|b| b.len()).sum::<usize>();
        }
        _ => {
            // Messages before the first NUL, then (u16 position, u8 mask) flips.
            let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let text = String::from_utf8_lossy(&rest[..split]);
            let messages: Vec<&str> = text.split('\n').take(64).collect();
            let flips: Vec<(usize, u8)> = rest[split.saturating_add(1).min(rest.len())..]
                .chunks_exact(3)
                .take(16)
                .map(|c| (usize::from(u16::from_le_bytes([c[0], c[1]])), c[2]))
                .collect();
            let _ = lookout_storage::fuzz_segment(&messages, &flips);
        }
    }
});
