//! Where finished records go. A record is always handed over whole, so a writer can emit it
//! with one `write` and concurrent records never interleave.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Receives finished records (each one complete JSON line including the trailing `\n`, or
/// one pretty-printed block in dev mode).
pub trait RecordWriter: Send + Sync + 'static {
    /// Writes one record. Errors are swallowed by implementations: logging must never fail
    /// the caller.
    fn write_record(&self, record: &[u8]);

    /// Writes the record held in `record`, possibly keeping its buffer: an implementation
    /// that batches records can take the allocation and leave an empty buffer in its place
    /// (one it used before, when it has one), which spares copying the record. Callers must
    /// not rely on what `record` holds afterwards. The default passes it to
    /// [`write_record`](Self::write_record) and leaves it as it is.
    fn write_record_vec(&self, record: &mut Vec<u8>) {
        self.write_record(record);
    }

    /// Pushes out anything held back. Called before an invocation's response is posted and
    /// after a panic record.
    fn flush(&self) {}
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock left at worst a half-written buffer; keep logging.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Process stdout, one `write` per record (the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct StdoutWriter;

impl RecordWriter for StdoutWriter {
    fn write_record(&self, record: &[u8]) {
        // Stdout's line buffer passes a buffer that ends in '\n' straight to the fd when it
        // holds nothing else, so a whole record is one write(2).
        let mut out = io::stdout().lock();
        let _ = out.write_all(record);
    }

    fn flush(&self) {
        let _ = io::stdout().lock().flush();
    }
}

/// Drops every record; for benchmarks and for measuring the cost of formatting alone.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiscardWriter;

impl RecordWriter for DiscardWriter {
    fn write_record(&self, record: &[u8]) {
        std::hint::black_box(record);
    }
}

/// Collects records in memory, for tests: clone it, hand one clone to the logger and read
/// the other.
#[derive(Clone, Debug, Default)]
pub struct CaptureWriter {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl CaptureWriter {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything written so far, lossily decoded.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&lock(&self.buf)).into_owned()
    }

    /// The records written so far, one string per line.
    pub fn lines(&self) -> Vec<String> {
        self.contents().lines().map(str::to_owned).collect()
    }

    /// Removes and returns everything written so far.
    pub fn take(&self) -> String {
        let bytes = std::mem::take(&mut *lock(&self.buf));
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl RecordWriter for CaptureWriter {
    fn write_record(&self, record: &[u8]) {
        lock(&self.buf).extend_from_slice(record);
    }
}

/// Batches records in memory and writes them to `W` when `capacity` bytes are pending, on
/// [`RecordWriter::flush`] and when dropped. Records are never split across writes, except
/// where `W` itself accepts only part of a write.
///
/// A record handed over with [`RecordWriter::write_record_vec`] (as the layer does) joins
/// the batch in the buffer it was rendered in, so it is not copied; the layer gets the
/// emptied buffer of a record written earlier in exchange, once there is one. (A buffer far
/// larger than its record is copied from instead, so that the buffers held stay within
/// 16 bytes per byte of capacity.) A batch goes out in vectored writes, one per 256
/// records. When `W` turns out to take only the first slice of a vectored write
/// (the default of [`Write::write_vectored`]), the records of every later batch are gathered
/// into one buffer first, so a batch is still one `write` for such a `W`.
#[derive(Debug)]
pub struct BufferedWriter<W: Write + Send + 'static> {
    batch: Mutex<Batch<W>>,
    capacity: usize,
}

/// Records waiting for a write, and the buffers of records already written.
#[derive(Debug)]
struct Batch<W> {
    /// The pending records are `buffers[..pending]`; the rest held records written before
    /// and are handed out again (cleared) in exchange for new ones.
    buffers: Vec<Vec<u8>>,
    pending: usize,
    /// Bytes of the pending records.
    bytes: usize,
    /// Capacity of all `buffers`. A buffer joins only while this stays within `keep`
    /// ([`SPARE_PER_BYTE`] × capacity); a record copied in grows a buffer by at most twice
    /// its length, so this stays under `keep` + 2 × capacity, and a write-out trims it back
    /// to `keep`.
    held: usize,
    /// Where records are gathered for a `W` without vectored writes.
    gathered: Vec<u8>,
    vectored: bool,
    out: W,
}

/// Records written in one vectored write at most (Linux accepts 1,024).
const SLICES_PER_WRITE: usize = 256;

/// Bytes of record buffers kept per byte of capacity. A buffer is larger than its record:
/// the layer reserves room for a whole record before rendering.
const SPARE_PER_BYTE: usize = 16;

impl<W: Write> Batch<W> {
    /// Writes out the pending records. Their buffers stay for reuse, up to `keep` bytes of
    /// buffers in all, so that a burst of large records does not stay allocated.
    fn write_out(&mut self, keep: usize) {
        match self.pending {
            0 => {}
            1 => {
                let _ = self.out.write_all(&self.buffers[0]);
            }
            _ => self.write_batch(keep),
        }
        self.pending = 0;
        self.bytes = 0;
        while self.held > keep {
            match self.buffers.pop() {
                Some(b) => self.held -= b.capacity(),
                None => break,
            }
        }
    }

    /// Adds a record by copying it into the buffer of a record written before, or a new one.
    fn copy_in(&mut self, record: &[u8]) {
        self.bytes += record.len();
        let i = self.pending;
        if i == self.buffers.len() {
            self.buffers.push(Vec::new());
        }
        let buf = &mut self.buffers[i];
        let before = buf.capacity();
        buf.clear();
        buf.extend_from_slice(record);
        self.held += buf.capacity() - before;
        self.pending += 1;
    }

    /// Writes two or more records: vectored while `W` takes more than one slice at a time,
    /// gathered into one buffer otherwise.
    fn write_batch(&mut self, keep: usize) {
        let records = &self.buffers[..self.pending];
        let mut done = 0; // records fully written
        let mut partial = 0; // bytes written of record `done`
        while self.vectored && done < records.len() {
            let mut slices = [io::IoSlice::new(&[]); SLICES_PER_WRITE];
            let chunk = &records[done..records.len().min(done + SLICES_PER_WRITE)];
            let mut total = 0;
            for (slice, r) in slices.iter_mut().zip(chunk) {
                *slice = io::IoSlice::new(r);
                total += r.len();
            }
            slices[0] = io::IoSlice::new(&chunk[0][partial..]);
            let first = slices[0].len();
            match self.out.write_vectored(&slices[..chunk.len()]) {
                Ok(0) => return,
                // (More than was asked breaks `Write`'s contract; it is taken as all of it.)
                Ok(n) if n >= total - partial => {
                    done += chunk.len();
                    partial = 0;
                }
                Ok(n) => {
                    if n == first && partial == 0 {
                        // `W` writes one slice per call: gather the rest instead. (A
                        // vectored `W` stopping at the same byte by chance only costs a copy.)
                        self.vectored = false;
                    }
                    let (d, p) = advance(&records[done..], partial, n);
                    done += d;
                    partial = p;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
        if done < records.len() {
            self.gathered.clear();
            self.gathered.extend_from_slice(&records[done][partial..]);
            for r in &records[done + 1..] {
                self.gathered.extend_from_slice(r);
            }
            let _ = self.out.write_all(&self.gathered);
            if self.gathered.capacity() > keep / SPARE_PER_BYTE * 2 {
                self.gathered = Vec::new();
            }
        }
    }
}

/// Where `n` more bytes written leave a write that had written `partial` bytes of
/// `records[0]`: (records completed, bytes written of the next one).
fn advance(records: &[Vec<u8>], mut partial: usize, mut n: usize) -> (usize, usize) {
    let mut done = 0;
    for r in records {
        let left = r.len() - partial;
        if n < left {
            return (done, partial + n);
        }
        n -= left;
        partial = 0;
        done += 1;
    }
    (done, 0)
}

impl<W: Write + Send + 'static> BufferedWriter<W> {
    /// Buffers up to `capacity` bytes before writing to `inner`.
    pub fn new(inner: W, capacity: usize) -> Self {
        Self {
            batch: Mutex::new(Batch {
                buffers: Vec::new(),
                pending: 0,
                bytes: 0,
                held: 0,
                gathered: Vec::new(),
                vectored: true,
                out: inner,
            }),
            capacity,
        }
    }

    fn keep(&self) -> usize {
        self.capacity.saturating_mul(SPARE_PER_BYTE)
    }

    /// Takes the lock and writes out the batch if `len` more bytes would pass the capacity.
    /// The flag says whether a record of `len` bytes joins the batch; a larger one is
    /// written alone, after the batch.
    fn room(&self, len: usize) -> (MutexGuard<'_, Batch<W>>, bool) {
        let mut b = lock(&self.batch);
        if b.bytes + len > self.capacity {
            b.write_out(self.keep());
        }
        (b, len < self.capacity)
    }
}

impl<W: Write + Send + 'static> RecordWriter for BufferedWriter<W> {
    fn write_record(&self, record: &[u8]) {
        if record.is_empty() {
            return;
        }
        let (mut b, fits) = self.room(record.len());
        if fits {
            b.copy_in(record);
        } else {
            let _ = b.out.write_all(record);
        }
    }

    fn write_record_vec(&self, record: &mut Vec<u8>) {
        if record.is_empty() {
            return;
        }
        let (mut b, fits) = self.room(record.len());
        if !fits {
            let _ = b.out.write_all(record);
        } else if b.held + record.capacity() > self.keep() {
            b.copy_in(record);
        } else {
            let b = &mut *b;
            b.bytes += record.len();
            b.held += record.capacity();
            match b.buffers.get_mut(b.pending) {
                Some(spare) => {
                    std::mem::swap(spare, record);
                    b.held -= record.capacity();
                    record.clear();
                }
                None => b.buffers.push(std::mem::take(record)),
            }
            b.pending += 1;
        }
    }

    fn flush(&self) {
        let mut b = lock(&self.batch);
        b.write_out(self.keep());
        let _ = b.out.flush();
    }
}

impl<W: Write + Send + 'static> Drop for BufferedWriter<W> {
    fn drop(&mut self) {
        RecordWriter::flush(self);
    }
}

/// Any `std::io::Write` (a file, a socket, a pipe) as the destination: one `write_all` per
/// record under a lock, so records never interleave.
#[derive(Debug)]
pub struct IoWriter<W: Write + Send + 'static> {
    inner: Mutex<W>,
}

impl<W: Write + Send + 'static> IoWriter<W> {
    /// Writes records to `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner: Mutex::new(inner),
        }
    }
}

impl<W: Write + Send + 'static> RecordWriter for IoWriter<W> {
    fn write_record(&self, record: &[u8]) {
        let _ = lock(&self.inner).write_all(record);
    }

    fn flush(&self) {
        let _ = lock(&self.inner).flush();
    }
}

/// Any `tracing-subscriber` [`MakeWriter`](tracing_subscriber::fmt::MakeWriter) (stderr,
/// a non-blocking appender, a test writer, a closure returning an `io::Write`) as the
/// destination: a fresh writer per record, given the whole record in one `write_all`.
#[derive(Debug)]
pub struct MakeWriterAdapter<M> {
    make: M,
}

impl<M> MakeWriterAdapter<M>
where
    M: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    /// Wraps `make`.
    pub fn new(make: M) -> Self {
        Self { make }
    }
}

impl<M> RecordWriter for MakeWriterAdapter<M>
where
    M: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    fn write_record(&self, record: &[u8]) {
        let _ = self.make.make_writer().write_all(record);
    }

    fn flush(&self) {
        let _ = self.make.make_writer().flush();
    }
}

impl<T: RecordWriter + ?Sized> RecordWriter for Box<T> {
    fn write_record(&self, record: &[u8]) {
        (**self).write_record(record);
    }

    fn write_record_vec(&self, record: &mut Vec<u8>) {
        (**self).write_record_vec(record);
    }

    fn flush(&self) {
        (**self).flush();
    }
}

impl<T: RecordWriter + ?Sized> RecordWriter for Arc<T> {
    fn write_record(&self, record: &[u8]) {
        (**self).write_record(record);
    }

    fn write_record_vec(&self, record: &mut Vec<u8>) {
        (**self).write_record_vec(record);
    }

    fn flush(&self) {
        (**self).flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Counting(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Write for Counting {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().push(b.to_vec());
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn buffered_writer_batches_whole_records_and_flushes_on_drop() {
        let sink = Counting::default();
        let w = BufferedWriter::new(sink.clone(), 10);
        w.write_record(b"aaaa\n");
        w.write_record(b"bbbb\n");
        assert!(sink.0.lock().unwrap().is_empty());
        w.write_record(b"cc\n");
        // `Counting` takes one slice per vectored write, which the first batch finds out.
        assert_eq!(sink.0.lock().unwrap().concat(), b"aaaa\nbbbb\n");
        w.write_record(b"dddd\n");
        w.write_record(b"eee\n");
        assert_eq!(sink.0.lock().unwrap().last().unwrap(), b"cc\ndddd\n");
        w.write_record(b"a very long record\n");
        drop(w);
        let writes = sink.0.lock().unwrap().clone();
        assert_eq!(
            writes.concat(),
            b"aaaa\nbbbb\ncc\ndddd\neee\na very long record\n"
        );
        // Once found out, every batch is one write.
        assert_eq!(writes.len(), 5, "{writes:?}");
    }

    /// Takes vectored writes whole, but at most `limit` bytes per call (a pipe's or a
    /// socket's partial writes); `interrupt` makes every other call fail with `Interrupted`.
    #[derive(Clone, Default)]
    struct Vectored {
        writes: Arc<Mutex<Vec<Vec<u8>>>>,
        limit: Option<usize>,
        interrupt: bool,
        /// Claims one byte more than it took, on the first call (a broken `Write`).
        overclaim: bool,
        calls: Arc<Mutex<usize>>,
    }

    impl Write for Vectored {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[io::IoSlice::new(b)])
        }
        fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            if self.interrupt && *calls % 2 == 1 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let mut all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            all.truncate(self.limit.unwrap_or(usize::MAX));
            let n = all.len();
            self.writes.lock().unwrap().push(all);
            Ok(if self.overclaim && *calls == 1 {
                n + 1
            } else {
                n
            })
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn record(i: usize) -> Vec<u8> {
        format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i % 13)).into_bytes()
    }

    #[test]
    fn buffered_writer_sends_a_batch_in_one_vectored_write_and_reuses_buffers() {
        const CAPACITY: usize = 16 * 1024;
        let out = Vectored::default();
        let w = BufferedWriter::new(out.clone(), CAPACITY);
        let mut expected = Vec::new();
        let (mut batches, mut pending, mut bytes) = (Vec::<usize>::new(), 0, 0);
        let mut buf = Vec::new();
        for i in 0..2000 {
            buf.clear();
            buf.extend_from_slice(&record(i));
            expected.extend_from_slice(&buf);
            if bytes + buf.len() > CAPACITY {
                batches.push(pending);
                (pending, bytes) = (0, 0);
            }
            pending += 1;
            bytes += buf.len();
            w.write_record_vec(&mut buf);
            assert!(buf.is_empty(), "the buffer handed back is empty");
        }
        assert!(
            batches.len() >= 3 && batches.iter().all(|&n| n > 256),
            "{batches:?}"
        );
        // Whole batches went out, 256 records per write.
        let writes: usize = batches.iter().map(|&n| n.div_ceil(256)).sum();
        assert_eq!(*out.calls.lock().unwrap(), writes);
        // After the first batch the layer gets written buffers back, not new ones.
        assert!(buf.capacity() > 0);
        w.flush();
        assert_eq!(out.writes.lock().unwrap().concat(), expected);
    }

    #[test]
    fn buffered_writer_survives_partial_and_interrupted_writes() {
        for (limit, interrupt, overclaim) in [
            (Some(7), false, false),
            (Some(1), true, false),
            (Some(40), true, false),
            (None, false, true),
        ] {
            let out = Vectored {
                limit,
                interrupt,
                overclaim,
                ..Vectored::default()
            };
            // The broken writer gets more than 256 records in one batch.
            let (capacity, n) = if overclaim {
                (64 * 1024, 600)
            } else {
                (300, 100)
            };
            let w = BufferedWriter::new(out.clone(), capacity);
            let mut expected = Vec::new();
            for i in 0..n {
                let mut r = record(i);
                expected.extend_from_slice(&r);
                if i % 3 == 0 {
                    w.write_record(&r);
                } else {
                    w.write_record_vec(&mut r);
                }
            }
            drop(w);
            assert_eq!(out.writes.lock().unwrap().concat(), expected, "{limit:?}");
        }
    }

    #[test]
    fn buffered_writer_gives_up_a_batch_on_an_error_and_goes_on() {
        struct Failing(Arc<Mutex<Vec<u8>>>, usize);
        impl Write for Failing {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.1 += 1;
                if self.1 == 1 {
                    return Err(io::Error::other("disk full"));
                }
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let w = BufferedWriter::new(Failing(got.clone(), 0), 100);
        w.write_record(b"lost 1\n");
        w.write_record(b"lost 2\n");
        w.flush();
        w.write_record(b"kept\n");
        w.write_record(b"");
        w.flush();
        assert_eq!(got.lock().unwrap().as_slice(), b"kept\n");
    }

    #[test]
    fn buffered_writer_keeps_a_bounded_amount_of_buffers() {
        let out = Vectored::default();
        let w = BufferedWriter::new(out.clone(), 1000);
        let mut expected = Vec::new();
        for i in 0..500 {
            // Each record arrives in a buffer far larger than itself.
            let mut r = Vec::with_capacity(if i % 50 == 0 { 1 << 20 } else { 4096 });
            r.extend_from_slice(&record(i));
            expected.extend_from_slice(&r);
            w.write_record_vec(&mut r);
            let b = lock(&w.batch);
            assert_eq!(b.held, b.buffers.iter().map(Vec::capacity).sum::<usize>());
            assert!(b.held <= 1000 * SPARE_PER_BYTE + 1000, "{}", b.held);
        }
        w.flush();
        let b = lock(&w.batch);
        assert!(b.held <= 1000 * SPARE_PER_BYTE, "{}", b.held);
        assert!(!b.buffers.is_empty());
        drop(b);
        assert_eq!(out.writes.lock().unwrap().concat(), expected);
    }

    #[test]
    fn io_and_make_writer_adapters_pass_whole_records() {
        let sink = Counting::default();
        let w = IoWriter::new(sink.clone());
        w.write_record(b"{\"a\":1}\n");
        let inner = sink.clone();
        let m = MakeWriterAdapter::new(move || inner.clone());
        m.write_record(b"{\"b\":2}\n");
        m.flush();
        assert_eq!(
            sink.0.lock().unwrap().as_slice(),
            [b"{\"a\":1}\n".to_vec(), b"{\"b\":2}\n".to_vec()]
        );
    }

    #[test]
    fn capture_writer_collects_lines() {
        let c = CaptureWriter::new();
        c.write_record(b"{\"a\":1}\n");
        c.write_record(b"{\"b\":2}\n");
        assert_eq!(c.lines(), ["{\"a\":1}", "{\"b\":2}"]);
        assert_eq!(c.take().len(), 16);
        assert!(c.contents().is_empty());
    }
}
