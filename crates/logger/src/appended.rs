//! Persistent and invocation keys rendered once for the direct path. They change rarely
//! (an `append_key` call) while records are many, so each thread keeps the last rendering
//! with a stamp of what it was made from and re-renders only when the stamp moves.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use crate::invocation::InvState;
use crate::layer::Shared;
use crate::record::Scratch;

/// What a rendering was made from: the layer, the persistent keys' generation and the
/// invocation's keys (`inv` 0: none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Stamp {
    layer: u64,
    persistent: Option<u64>,
    inv: u64,
    keys_gen: u64,
}

/// The appended keys of a record as the general path would write them: persistent keys,
/// then invocation keys, a later name replacing an earlier one's value in its place.
#[derive(Debug, Default)]
pub(crate) struct Appended {
    stamp: Option<Stamp>,
    /// `"name":value,` per key.
    pub(crate) block: Vec<u8>,
    /// Duplicate-check bits of the names (see `record::name_bit`).
    pub(crate) mask: u64,
    /// Whether no name is reserved: a renamed key needs the general path's warning.
    pub(crate) plain: bool,
}

impl Appended {
    /// Makes this the rendering of the layer's persistent keys followed by the keys of
    /// `inv` (its unique id and locked state), re-rendering only if they changed.
    pub(crate) fn refresh(&mut self, shared: &Shared, inv: Option<(u64, &InvState)>) {
        // Generation first: keys read after it are at least as new as the stamp says.
        let persistent = shared
            .has_persistent
            .load(Ordering::Acquire)
            .then(|| shared.persistent_gen.load(Ordering::Acquire));
        let stamp = Stamp {
            layer: shared.uid,
            persistent,
            inv: inv.map_or(0, |i| i.0),
            keys_gen: inv.map_or(0, |i| i.1.keys_gen),
        };
        if self.stamp == Some(stamp) {
            return;
        }
        let mut tmp = Scratch::default();
        if persistent.is_some() {
            let keys = shared
                .persistent
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            for (k, v) in keys.iter() {
                tmp.add_user_rendered(k, v);
            }
        }
        if let Some((_, st)) = inv {
            for (k, v) in &st.keys {
                tmp.add_user_rendered(k, v);
            }
        }
        self.block.clear();
        for e in &tmp.user {
            // Each piece is followed by its comma in `kv`.
            let piece = tmp.kv.get(e.piece.0 as usize..=e.piece.1 as usize);
            self.block.extend_from_slice(piece.unwrap_or(&[]));
        }
        self.mask = tmp.user_mask;
        self.plain = tmp.reserved_hits.is_empty();
        self.stamp = Some(stamp);
    }
}
