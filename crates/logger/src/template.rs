//! Per-callsite pre-rendered pieces: each field's `"name":` key (reserved names already
//! renamed) with its duplicate-check bit, and the `"location":"file:line",` piece. Built the
//! first time a thread logs from a callsite and reused for every later record there, so a
//! record neither escapes field names nor formats its location.

use tracing::Metadata;

use crate::json;
use crate::record::{is_reserved, name_bit};

/// Keys up to this length are also kept in a fixed-size array, so adding one to a record
/// is a constant-size copy rather than a `memcpy` call.
pub(crate) const SHORT: usize = json::KEY_PAD;

/// One field's pre-rendered key.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Key {
    /// `"name":` inside [`Template::bytes`].
    range: (u32, u32),
    /// `"name":` space-padded, when it is at most [`SHORT`] bytes long.
    pub(crate) short: Option<[u8; SHORT]>,
    pub(crate) bit: u64,
    pub(crate) reserved: bool,
    /// An ordinary user field: not the message, an error or one of this crate's markers.
    pub(crate) plain: bool,
}

/// The pre-rendered pieces of one callsite.
#[derive(Debug, Default)]
pub(crate) struct Template {
    /// Address of the callsite's (static) metadata; 0 for an empty slot.
    meta: usize,
    bytes: Vec<u8>,
    keys: Vec<Key>,
    location: (u32, u32),
    /// Whether records of this callsite can be written straight into the output line: the
    /// callsite is not this crate's own, the message (if any) is the first field and every
    /// other field is an ordinary user key with a unique, unreserved name, so no key is
    /// renamed, replaced or moved.
    pub(crate) direct: bool,
    /// Union of the fields' duplicate-check bits: appended keys whose bits miss it cannot
    /// share a name with a field.
    pub(crate) mask: u64,
    /// Whether the callsite is this crate's own (see [`is_internal`]).
    pub(crate) internal: bool,
}

/// Whether records from `target` are this crate's own, which carry no `location`.
pub(crate) fn is_internal(target: &str) -> bool {
    target.starts_with("lookout_logger")
}

impl Template {
    fn build(&mut self, meta: &'static Metadata<'static>) {
        self.meta = meta as *const Metadata<'static> as usize;
        self.bytes.clear();
        self.keys.clear();
        self.direct = true;
        self.mask = 0;
        self.internal = is_internal(meta.target());
        for (i, field) in meta.fields().iter().enumerate() {
            let name = field.name();
            let reserved = is_reserved(name);
            let start = self.bytes.len() as u32;
            self.bytes.push(b'"');
            if reserved {
                self.bytes.extend_from_slice(b"field_");
            }
            json::escape_into(&mut self.bytes, name);
            let bit = name_bit(&self.bytes[start as usize + 1..]);
            self.bytes.extend_from_slice(b"\":");
            let key = &self.bytes[start as usize..];
            let short = (key.len() <= SHORT).then(|| {
                let mut a = [b' '; SHORT];
                a[..key.len()].copy_from_slice(key);
                a
            });
            let plain =
                !matches!(name, "message" | "error" | "err") && !name.starts_with("__lookout_");
            let duplicate = self
                .keys
                .iter()
                .any(|k| self.bytes.get(k.range.0 as usize..k.range.1 as usize) == Some(key));
            let leading_message = i == 0 && name == "message";
            if !leading_message && (!plain || reserved || duplicate) {
                self.direct = false;
            }
            if !leading_message {
                self.mask |= bit;
            }
            self.keys.push(Key {
                range: (start, self.bytes.len() as u32),
                short,
                bit,
                reserved,
                plain,
            });
        }
        if self.internal {
            // The library's own records carry no `location`: the general path's job.
            self.direct = false;
        }
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(b"\"location\":\"");
        json::escape_into(&mut self.bytes, meta.file().unwrap_or("unknown"));
        self.bytes.push(b':');
        json::int(&mut self.bytes, meta.line().unwrap_or(0));
        self.bytes.extend_from_slice(b"\",");
        self.location = (start, self.bytes.len() as u32);
    }

    /// The space-padded `"name":` key of the ordinary field with this index and its length,
    /// when the key is short: what the one-copy writes of the direct path need.
    #[inline]
    pub(crate) fn short_key(&self, index: usize) -> Option<(&[u8; SHORT], usize)> {
        let k = self.keys.get(index)?;
        if !k.plain {
            return None;
        }
        let padded = k.short.as_ref()?;
        Some((padded, (k.range.1 - k.range.0) as usize))
    }

    /// The `"name":` key of the field with this index, and its properties.
    #[inline]
    pub(crate) fn key(&self, index: usize) -> Option<(&[u8], &Key)> {
        let k = self.keys.get(index)?;
        let bytes = self.bytes.get(k.range.0 as usize..k.range.1 as usize)?;
        Some((bytes, k))
    }

    /// `"location":"file:line",` (comma included).
    #[inline]
    pub(crate) fn location(&self) -> &[u8] {
        self.bytes
            .get(self.location.0 as usize..self.location.1 as usize)
            .unwrap_or(&[])
    }
}

const SLOTS: usize = 64;

/// A direct-mapped cache of templates keyed by callsite; a collision rebuilds the slot.
#[derive(Debug, Default)]
pub(crate) struct Templates {
    slots: Vec<Template>,
}

impl Templates {
    /// The template of `meta`'s callsite.
    #[inline]
    pub(crate) fn get(&mut self, meta: &'static Metadata<'static>) -> Option<&Template> {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, Template::default);
        }
        let addr = meta as *const Metadata<'static> as usize;
        // Fibonacci hashing of the address picks the slot.
        let slot = ((addr as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize % SLOTS;
        let t = self.slots.get_mut(slot)?;
        if t.meta != addr {
            t.build(meta);
        }
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_escaped_renamed_and_location_is_prerendered() {
        let span = tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            tracing::info_span!("s", level = 1, plain = 2, message = 3)
        });
        let meta = span.metadata().unwrap();
        let mut cache = Templates::default();
        let t = cache.get(meta).unwrap();
        let (k0, key0) = t.key(0).unwrap();
        assert_eq!(k0, b"\"field_level\":");
        assert!(key0.reserved && key0.plain);
        assert_eq!(&key0.short.unwrap()[..k0.len()], k0);
        let (k1, key1) = t.key(1).unwrap();
        assert_eq!(k1, b"\"plain\":");
        assert!(!key1.reserved);
        assert!(!t.key(2).unwrap().1.plain);
        assert!(t.key(3).is_none());
        let loc = String::from_utf8(t.location().to_vec()).unwrap();
        assert!(
            loc.starts_with("\"location\":\"") && loc.ends_with("\","),
            "{loc}"
        );
        assert!(loc.contains("template.rs:"), "{loc}");
    }
}
