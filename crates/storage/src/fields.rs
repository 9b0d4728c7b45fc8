//! Flattening of JSON messages into (path, value) pairs for field columns and blooms.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

mod fast;
pub(crate) mod paths;

/// Most fields taken from one event; the rest stay only in the raw message.
const MAX_FIELDS: usize = 256;
/// Deepest nesting flattened.
const MAX_DEPTH: usize = 16;

/// The kind of a flattened value, kept so numbers can carry min/max statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Number,
    Other,
}

#[cfg(test)]
thread_local! {
    /// Tests set this to flatten with serde alone, the build's reference path.
    pub(crate) static SERDE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Where a message's tokens are: path ids whose plain last key the message holds, and
/// byte ranges of the message (see [`Flat::token_sources`]).
pub(crate) type TokenSources<'a> = (&'a [u32], &'a [(u32, u32)]);

/// One flattened field: its path id and where its value text is.
#[derive(Debug, Clone, Copy)]
struct Item {
    path: u32,
    start: u32,
    end: u32,
    kind: Kind,
    /// The value is in `text` (decoded or printed); otherwise it is the message's own
    /// bytes at `start..end`.
    owned: bool,
}

/// A flattened field for the segment build: path id, value, kind, and whether the value is
/// the message's own bytes (its tokens are the message's tokens there).
pub(crate) struct Field<'a> {
    pub(crate) path: u32,
    pub(crate) value: &'a str,
    pub(crate) kind: Kind,
    pub(crate) raw: bool,
}

/// The flattened fields of one message: `a.b` / `a.0` paths with their values as text
/// (strings unquoted, numbers as serde_json writes them, `true`, `false`, `null`), in
/// document order. Paths are interned for the life of the `Flat` ([`Flat::paths`]); values
/// are ranges of a copy of the message unless they had to be decoded, so flattening a
/// message allocates nothing once the buffers have grown; this runs for every event at
/// flush.
///
/// A path may occur twice when an object repeats a key; the last occurrence wins, as in a
/// parsed JSON object.
#[derive(Debug, Default)]
pub(crate) struct Flat {
    /// The message last parsed.
    msg: String,
    /// Values that are not the message's own bytes.
    text: String,
    items: Vec<Item>,
    paths: paths::Paths,
    /// Paths whose (plain) last key appears in the message, and other byte ranges of the
    /// message that hold tokens, when the fast flattener parsed it (see
    /// [`Flat::token_sources`]).
    keys: Vec<u32>,
    spans: Vec<(u32, u32)>,
    exact_spans: bool,
}

impl Flat {
    /// Flattens `message`, replacing the previous content. A message that is not a JSON
    /// object (or not valid JSON) yields no fields.
    pub(crate) fn parse(&mut self, message: &str) {
        self.text.clear();
        self.items.clear();
        self.keys.clear();
        self.spans.clear();
        self.exact_spans = false;
        let trimmed = message.trim_start();
        if !trimmed.starts_with('{') || trimmed.len() > u32::MAX as usize / 4 {
            return;
        }
        let start = message.len() - trimmed.len();
        #[cfg(test)]
        if SERDE_ONLY.get() {
            self.parse_serde(trimmed);
            return;
        }
        self.msg.clear();
        self.msg.push_str(message);
        let msg = std::mem::take(&mut self.msg);
        let fast = fast::Fast::run(&msg, start, self).is_ok();
        self.msg = msg;
        if fast {
            // Leading whitespace may be non-ASCII (token bytes): its range counts too.
            if start > 0 {
                self.spans.push((0, start as u32));
            }
            self.exact_spans = true;
            return;
        }
        self.text.clear();
        self.items.clear();
        self.keys.clear();
        self.spans.clear();
        self.parse_serde(trimmed);
    }

    /// Where the tokens of the last parsed message are, or `None` when the message has to
    /// be tokenized whole: the plain last keys of the given paths, the given byte ranges,
    /// and the values of the fields whose value is the message's own bytes. Those are its
    /// keys and scalar values, each bounded by bytes that are not token bytes (quotes, JSON
    /// punctuation and whitespace), so their tokens are exactly the message's tokens. They
    /// repeat from message to message, so a build can skip the ones it has tokenized.
    pub(crate) fn token_sources(&self) -> Option<TokenSources<'_>> {
        self.exact_spans
            .then_some((&self.keys[..], &self.spans[..]))
    }

    /// The interned paths.
    pub(crate) fn paths(&self) -> &paths::Paths {
        &self.paths
    }

    /// The serde flattener: every message the fast path does not take.
    fn parse_serde(&mut self, trimmed: &str) {
        let mut de = serde_json::Deserializer::from_str(trimmed);
        let mut path = String::new();
        let seed = Seed {
            flat: self,
            path: &mut path,
            depth: 0,
        };
        if seed.deserialize(&mut de).and_then(|()| de.end()).is_err() {
            self.text.clear();
            self.items.clear();
        }
    }

    fn value(&self, it: &Item) -> &str {
        let buf = if it.owned { &self.text } else { &self.msg };
        buf.get(it.start as usize..it.end as usize).unwrap_or("")
    }

    /// The fields in document order.
    pub(crate) fn fields(&self) -> impl Iterator<Item = Field<'_>> {
        self.items.iter().map(|it| Field {
            path: it.path,
            value: self.value(it),
            kind: it.kind,
            raw: !it.owned,
        })
    }

    /// (path, value, kind) in document order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str, Kind)> {
        self.items
            .iter()
            .map(|it| (self.paths.name(it.path), self.value(it), it.kind))
    }

    /// The value of `path`, if present (the last occurrence).
    pub(crate) fn get(&self, path: &str) -> Option<&str> {
        let id = self.paths.find(path)?;
        self.items
            .iter()
            .rev()
            .find(|it| it.path == id)
            .map(|it| self.value(it))
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn emit(&mut self, path: &str, value: &str, kind: Kind) {
        if self.items.len() >= MAX_FIELDS {
            return;
        }
        let id = self.paths.by_text(path);
        let start = self.text.len() as u32;
        self.text.push_str(value);
        self.items.push(Item {
            path: id,
            start,
            end: self.text.len() as u32,
            kind,
            owned: true,
        });
    }
}

/// Walks one JSON value at `path`; `depth` 0 is the message's top-level object.
struct Seed<'a> {
    flat: &'a mut Flat,
    path: &'a mut String,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// Appends an object key to the path without allocating.
struct Key<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
}

impl Seed<'_> {
    fn scalar(self, value: &str, kind: Kind) {
        if self.depth > 0 {
            self.flat.emit(self.path, value, kind);
        }
    }

    fn full(&self) -> bool {
        self.flat.items.len() >= MAX_FIELDS
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(if v { "true" } else { "false" }, Kind::Other);
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(itoa::Buffer::new().format(v), Kind::Number);
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(itoa::Buffer::new().format(v), Kind::Number);
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // Exactly the text a parsed `serde_json::Value` prints for this number.
        match serde_json::Number::from_f64(v) {
            Some(n) => self.scalar(&n.to_string(), Kind::Number),
            None => self.scalar("null", Kind::Other),
        }
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(v, Kind::String);
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar("null", Kind::Other);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.full() {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        if self.depth >= MAX_DEPTH {
            // Too deep to flatten: the subtree's compact JSON is the value.
            let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
            self.scalar(&v.to_string(), Kind::Other);
            return Ok(());
        }
        let len = self.path.len();
        loop {
            if self.depth > 0 {
                self.path.push('.');
            }
            if map.next_key_seed(Key(self.path))?.is_none() {
                self.path.truncate(len);
                return Ok(());
            }
            map.next_value_seed(Seed {
                flat: self.flat,
                path: self.path,
                depth: self.depth + 1,
            })?;
            self.path.truncate(len);
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.full() {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        if self.depth >= MAX_DEPTH {
            let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
            self.scalar(&v.to_string(), Kind::Other);
            return Ok(());
        }
        let len = self.path.len();
        let mut i = 0usize;
        loop {
            self.path.push('.');
            self.path.push_str(itoa::Buffer::new().format(i));
            let more = seq
                .next_element_seed(Seed {
                    flat: self.flat,
                    path: self.path,
                    depth: self.depth + 1,
                })?
                .is_some();
            self.path.truncate(len);
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }
}

/// Looks up one flattened field of a message, the slow path when a block has no column.
pub(crate) fn field_of(message: &str, path: &str) -> Option<String> {
    let mut flat = Flat::default();
    flat.parse(message);
    flat.get(path).map(str::to_owned)
}

#[cfg(test)]
mod tests;
