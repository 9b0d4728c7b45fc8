//! `BufferedWriter` under arbitrary record sizes, buffer capacities, flushes and writers
//! that take partial, interrupted or one-slice-at-a-time writes: every byte arrives once,
//! in order.

use std::io::{self, IoSlice, Write};
use std::sync::{Arc, Mutex};

use lookout_logger::{BufferedWriter, RecordWriter};
use proptest::prelude::*;

/// A `Write` with the behaviours a real destination can have.
struct Flaky {
    out: Arc<Mutex<Vec<u8>>>,
    /// Whether `write_vectored` takes several slices (else the default: the first one).
    vectored: bool,
    /// Most bytes taken per call, cycled through (0 means no limit).
    limits: Vec<usize>,
    /// Every `interrupt`-th call fails with `Interrupted` (0: never).
    interrupt: usize,
    calls: usize,
}

impl Flaky {
    fn limit(&mut self) -> Option<usize> {
        self.calls += 1;
        if self.interrupt > 0 && self.calls.is_multiple_of(self.interrupt) {
            return None;
        }
        let l = self.limits[self.calls % self.limits.len()];
        Some(if l == 0 { usize::MAX } else { l })
    }
}

impl Write for Flaky {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let Some(limit) = self.limit() else {
            return Err(io::ErrorKind::Interrupted.into());
        };
        let n = b.len().min(limit);
        self.out.lock().unwrap().extend_from_slice(&b[..n]);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if !self.vectored {
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &**b);
            return self.write(first);
        }
        let Some(mut left) = self.limit() else {
            return Err(io::ErrorKind::Interrupted.into());
        };
        let mut out = self.out.lock().unwrap();
        let mut n = 0;
        for b in bufs {
            let take = b.len().min(left);
            out.extend_from_slice(&b[..take]);
            n += take;
            left -= take;
            if left == 0 {
                break;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One record: its length, whether it is handed over as a `Vec` (and with how much spare
/// capacity), and whether a flush follows it.
fn records() -> impl Strategy<Value = Vec<(usize, Option<usize>, bool)>> {
    prop::collection::vec(
        (
            prop_oneof![1..64usize, 64..600usize, 600..5000usize],
            prop::option::of(prop_oneof![0..64usize, 1000..70000usize]),
            prop::bool::weighted(0.05),
        ),
        0..700,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_byte_arrives_once_in_order(
        recs in records(),
        capacity in prop_oneof![1..200usize, 200..70000usize],
        vectored in any::<bool>(),
        limits in prop::collection::vec(prop_oneof![Just(0usize), 1..50usize, 50..9000usize], 1..5),
        interrupt in prop_oneof![Just(0usize), 2..7usize],
    ) {
        let out = Arc::new(Mutex::new(Vec::new()));
        let w = BufferedWriter::new(
            Flaky { out: out.clone(), vectored, limits, interrupt, calls: 0 },
            capacity,
        );
        let mut expected = Vec::new();
        for (i, &(len, spare, flush)) in recs.iter().enumerate() {
            // Distinct bytes per record, so a lost, doubled or swapped piece shows.
            let mut r: Vec<u8> = format!("{i:05}:").bytes().cycle().take(len - 1).collect();
            r.push(b'\n');
            expected.extend_from_slice(&r);
            match spare {
                Some(extra) => {
                    r.reserve_exact(extra);
                    w.write_record_vec(&mut r);
                }
                None => w.write_record(&r),
            }
            if flush {
                w.flush();
                prop_assert_eq!(out.lock().unwrap().len(), expected.len());
            }
        }
        drop(w);
        let got = out.lock().unwrap();
        prop_assert!(*got == expected, "{} bytes written, {} expected", got.len(), expected.len());
    }
}
