//! Segment I/O through `object_store`, driven from synchronous code.
//!
//! The engine's public API is blocking (callers in async code use `spawn_blocking`), so the
//! object store's futures are driven to completion here with a minimal thread-parking
//! executor. `LocalFileSystem` runs its blocking work inline when no tokio runtime is
//! current and hands it to the runtime's blocking pool otherwise; both work under this
//! executor.

use std::future::Future;
use std::ops::Range;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::StorageError;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(fut: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// The segment object store plus the blocking helpers the engine uses.
#[derive(Clone, Debug)]
pub(crate) struct Objects {
    store: Arc<dyn ObjectStore>,
}

pub(crate) const SEGMENT_PREFIX: &str = "segments";

impl Objects {
    pub(crate) fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    pub(crate) fn put(&self, key: &str, data: Vec<u8>) -> Result<(), StorageError> {
        let path = Path::from(key);
        block_on(self.store.put(&path, PutPayload::from(data)))?;
        Ok(())
    }

    pub(crate) fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, StorageError> {
        let path = Path::from(key);
        Ok(block_on(self.store.get_range(&path, range))?)
    }

    /// Several ranges of one object in one request (one open file for a local store).
    pub(crate) fn get_ranges(
        &self,
        key: &str,
        ranges: &[Range<u64>],
    ) -> Result<Vec<Bytes>, StorageError> {
        let path = Path::from(key);
        Ok(block_on(self.store.get_ranges(&path, ranges))?)
    }

    pub(crate) fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = Path::from(key);
        match block_on(self.store.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Keys of all segment objects.
    pub(crate) fn list_segments(&self) -> Result<Vec<String>, StorageError> {
        let prefix = Path::from(SEGMENT_PREFIX);
        let listed = block_on(self.store.list_with_delimiter(Some(&prefix)))?;
        Ok(listed
            .objects
            .into_iter()
            .map(|o| o.location.to_string())
            .collect())
    }
}
