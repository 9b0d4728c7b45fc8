//! Flattening of JSON messages into (path, value) pairs for field columns and blooms.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

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

/// The flattened fields of one message: `a.b` / `a.0` paths with their values as text
/// (strings unquoted, numbers as serde_json writes them, `true`, `false`, `null`), in
/// document order. Paths and values live in one reused buffer, so flattening a message
/// allocates nothing once the buffers have grown; this runs for every event at flush.
///
/// A path may occur twice when an object repeats a key; the last occurrence wins, as in a
/// parsed JSON object.
#[derive(Debug, Default)]
pub(crate) struct Flat {
    text: String,
    /// (path start, path end = value start, value end, kind) into `text`.
    items: Vec<(u32, u32, u32, Kind)>,
}

impl Flat {
    /// Flattens `message`, replacing the previous content. A message that is not a JSON
    /// object (or not valid JSON) yields no fields.
    pub(crate) fn parse(&mut self, message: &str) {
        self.text.clear();
        self.items.clear();
        let trimmed = message.trim_start();
        if !trimmed.starts_with('{') || trimmed.len() > u32::MAX as usize / 4 {
            return;
        }
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

    /// (path, value, kind) in document order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str, Kind)> {
        self.items.iter().map(|&(p, v, e, k)| {
            (
                self.text.get(p as usize..v as usize).unwrap_or(""),
                self.text.get(v as usize..e as usize).unwrap_or(""),
                k,
            )
        })
    }

    /// The value of `path`, if present (the last occurrence).
    pub(crate) fn get(&self, path: &str) -> Option<&str> {
        let mut found = None;
        for (p, v, _) in self.iter() {
            if p == path {
                found = Some(v);
            }
        }
        found
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn emit(&mut self, path: &str, value: &str, kind: Kind) {
        if self.items.len() >= MAX_FIELDS {
            return;
        }
        let p = self.text.len() as u32;
        self.text.push_str(path);
        let v = self.text.len() as u32;
        self.text.push_str(value);
        self.items.push((p, v, self.text.len() as u32, kind));
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
mod tests {
    use super::*;

    #[test]
    fn flattens_nested_objects_and_arrays() {
        let mut out = Flat::default();
        out.parse(r#" {"level":"ERROR","a":{"b":1.5,"c":[true,null]},"s":"x","n":-3,"e":1e2}"#);
        let got: Vec<(&str, &str)> = out.iter().map(|(p, v, _)| (p, v)).collect();
        assert_eq!(
            got,
            [
                ("level", "ERROR"),
                ("a.b", "1.5"),
                ("a.c.0", "true"),
                ("a.c.1", "null"),
                ("s", "x"),
                ("n", "-3"),
                ("e", "100.0"),
            ]
        );
        let kinds: Vec<Kind> = out.iter().map(|(_, _, k)| k).collect();
        assert_eq!(kinds[1], Kind::Number);
        assert_eq!(kinds[0], Kind::String);
        out.parse("plain text");
        assert!(out.is_empty());
        out.parse(r#"{"ok":1,"broken"#);
        assert!(
            out.is_empty(),
            "a message that fails to parse yields nothing"
        );
        out.parse(r#"{"a":"\u00e9\"","a":"last"}"#);
        assert_eq!(out.get("a"), Some("last"));
        assert_eq!(out.iter().next().map(|x| x.1), Some("é\""));
        assert_eq!(field_of(r#"{"x":{"y":"z"}}"#, "x.y").as_deref(), Some("z"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let mut out = Flat::default();
        out.parse(&format!(r#"{{"d":{deep}}}"#));
        // Flattened down to MAX_DEPTH; below that the subtree is one compact JSON value.
        let (p, v, _) = out.iter().next().unwrap();
        assert_eq!(p.matches('.').count(), MAX_DEPTH - 1);
        assert!(v.starts_with("[[") && v.contains('1'));
        let wide: Vec<String> = (0..300).map(|i| format!("\"k{i}\":{i}")).collect();
        out.parse(&format!("{{{}}}", wide.join(",")));
        assert_eq!(out.iter().count(), MAX_FIELDS);
    }
}
