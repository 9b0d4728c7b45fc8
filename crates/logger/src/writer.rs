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
/// [`RecordWriter::flush`] and when dropped. Records are never split across writes.
#[derive(Debug)]
pub struct BufferedWriter<W: Write + Send + 'static> {
    inner: Mutex<(Vec<u8>, W)>,
    capacity: usize,
}

impl<W: Write + Send + 'static> BufferedWriter<W> {
    /// Buffers up to `capacity` bytes before writing to `inner`.
    pub fn new(inner: W, capacity: usize) -> Self {
        Self {
            inner: Mutex::new((Vec::with_capacity(capacity), inner)),
            capacity,
        }
    }
}

impl<W: Write + Send + 'static> RecordWriter for BufferedWriter<W> {
    fn write_record(&self, record: &[u8]) {
        let mut g = lock(&self.inner);
        let (buf, w) = &mut *g;
        if buf.len() + record.len() > self.capacity && !buf.is_empty() {
            let _ = w.write_all(buf);
            buf.clear();
        }
        if record.len() >= self.capacity {
            let _ = w.write_all(record);
        } else {
            buf.extend_from_slice(record);
        }
    }

    fn flush(&self) {
        let mut g = lock(&self.inner);
        let (buf, w) = &mut *g;
        if !buf.is_empty() {
            let _ = w.write_all(buf);
            buf.clear();
        }
        let _ = w.flush();
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

    fn flush(&self) {
        (**self).flush();
    }
}

impl<T: RecordWriter + ?Sized> RecordWriter for Arc<T> {
    fn write_record(&self, record: &[u8]) {
        (**self).write_record(record);
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
        assert_eq!(
            sink.0.lock().unwrap().as_slice(),
            [b"aaaa\nbbbb\n".to_vec()]
        );
        w.write_record(b"a very long record\n");
        drop(w);
        let writes = sink.0.lock().unwrap().clone();
        assert_eq!(writes.concat(), b"aaaa\nbbbb\ncc\na very long record\n");
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
