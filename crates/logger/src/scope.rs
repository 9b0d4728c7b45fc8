//! A per-thread mirror of the entered spans records care about (invocation scopes and spans
//! with fields), kept by the layer's `on_enter`/`on_exit`. A record logged in the current
//! span's context finds its invocation here with no registry lookup; records with an
//! explicit parent, or inside spans with fields, walk the registry instead.

use std::cell::RefCell;
use std::sync::Arc;

use crate::invocation::Invocation;

struct Entered {
    /// Identity of the layer (its shared state) that saw the enter.
    layer: usize,
    span: u64,
    /// `None` for a span with fields (a scoped-keys span).
    inv: Option<Arc<Invocation>>,
}

thread_local! {
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
}

/// What the innermost relevant entered span of a layer is.
pub(crate) enum Top {
    /// No invocation scope and no span with fields is entered.
    Nothing,
    /// The invocation scope, with no span with fields inside it; [`top`] left it in its
    /// `held` argument.
    Invocation,
    /// A span with fields: its keys need the registry.
    Scoped,
}

pub(crate) fn push(layer: usize, span: u64, inv: Option<Arc<Invocation>>) {
    let _ = ENTERED.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            e.push(Entered { layer, span, inv });
        }
    });
}

pub(crate) fn pop(layer: usize, span: u64) {
    let _ = ENTERED.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut()
            && let Some(i) = e.iter().rposition(|x| x.layer == layer && x.span == span)
        {
            e.remove(i);
        }
    });
}

/// The innermost entry of `layer`; `None` when the thread's stack is unavailable (then the
/// caller walks the registry). For an invocation scope, `held` is made to hold it: when it
/// already does (every record of an invocation after its first on this thread), no
/// reference count is touched, which saves a record two atomic operations.
#[inline]
pub(crate) fn top(layer: usize, held: &mut Option<Arc<Invocation>>) -> Option<Top> {
    ENTERED
        .try_with(|e| {
            let e = e.try_borrow().ok()?;
            Some(match e.iter().rev().find(|x| x.layer == layer) {
                None => Top::Nothing,
                Some(Entered { inv: Some(inv), .. }) => {
                    if !held.as_ref().is_some_and(|h| Arc::ptr_eq(h, inv)) {
                        *held = Some(inv.clone());
                    }
                    Top::Invocation
                }
                Some(_) => Top::Scoped,
            })
        })
        .ok()
        .flatten()
}
