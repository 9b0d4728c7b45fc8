//! Streaming JSON field discovery for query rows: walks a message's JSON object once,
//! counting leaves for the 200-field limit (spec §4.3) but materialising only the fields the
//! query reads, so unread values cost no allocation.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::fx::FxMap;
use crate::row::MAX_JSON_FIELDS;
use crate::value::Value;

/// Deepest nesting flattened, as [`crate::row::walk`] does.
const MAX_DEPTH: usize = 16;

struct Walk<'a> {
    wanted: &'a FxMap<String, usize>,
    path: String,
    count: usize,
    found: Vec<(usize, Value)>,
}

/// Wanted sets up to this size are matched by a linear prefix check, so subtrees no wanted
/// path runs through are skipped without building their paths.
const PREFIX_CHECK_MAX: usize = 8;

impl Walk<'_> {
    /// Whether some wanted path equals the current path or continues it past a `.`; when not,
    /// the value under it is only counted.
    fn leads_somewhere(&self) -> bool {
        if self.wanted.len() > PREFIX_CHECK_MAX {
            return true;
        }
        let p = self.path.as_bytes();
        self.wanted.keys().any(|w| {
            let w = w.as_bytes();
            w.starts_with(p) && (w.len() == p.len() || w[p.len()] == b'.')
        })
    }
}

/// Parses the JSON object at the start of `text` and returns the wanted fields' slots and
/// values; `None` when `text` does not start with a valid object, or, when `whole`, has more
/// than whitespace after it.
pub(crate) fn extract<'t>(
    text: &'t str,
    wanted: &FxMap<String, usize>,
    whole: bool,
) -> Option<Extracted<'t>> {
    match crate::json_fast::extract(text, wanted, whole) {
        Some(found) => Some(Extracted::Fast(found)),
        None => extract_full(text, wanted, whole).map(Extracted::Full),
    }
}

/// What [`extract`] found: borrowed leaves from the byte-level scan, or values from serde.
pub(crate) enum Extracted<'t> {
    /// From [`crate::json_fast`].
    Fast(crate::json_fast::Found<'t>),
    /// From the full parser.
    Full(Vec<(usize, Value)>),
}

impl Extracted<'_> {
    /// The fields as values, in document order.
    #[cfg(test)]
    pub(crate) fn into_values(self) -> Vec<(usize, Value)> {
        match self {
            Extracted::Fast(found) => found.iter().map(|(s, l)| (s, l.to_value())).collect(),
            Extracted::Full(v) => v,
        }
    }
}

/// [`extract`] through serde, for any input.
pub(crate) fn extract_full(
    text: &str,
    wanted: &FxMap<String, usize>,
    whole: bool,
) -> Option<Vec<(usize, Value)>> {
    let mut w = Walk {
        wanted,
        path: String::new(),
        count: 0,
        found: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    de::Deserializer::deserialize_map(
        &mut de,
        Node {
            w: &mut w,
            depth: 0,
            skip: false,
        },
    )
    .ok()?;
    if whole {
        de.end().ok()?;
    }
    Some(w.found)
}

/// One JSON value at `depth`, its path already in `w.path`.
struct Node<'w, 'a> {
    w: &'w mut Walk<'a>,
    depth: usize,
    /// No wanted path runs through this value: leaves are counted, paths not built.
    skip: bool,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key appended to the path (with the `@@` rule at the top level).
struct Key<'p> {
    path: &'p mut String,
    top: bool,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, k: &str) -> Result<(), E> {
        if self.top {
            if k.starts_with('@') {
                self.path.push('@');
            }
        } else {
            self.path.push('.');
        }
        self.path.push_str(k);
        Ok(())
    }
}

impl Node<'_, '_> {
    /// Counts one scalar leaf and keeps it when its path is wanted.
    fn scalar(self, v: impl FnOnce() -> Value) {
        if self.skip {
            if self.w.count < MAX_JSON_FIELDS {
                self.w.count += 1;
            }
            return;
        }
        if self.w.count < MAX_JSON_FIELDS {
            self.w.count += 1;
            if let Some(&slot) = self.w.wanted.get(self.w.path.as_str()) {
                self.w.found.push((slot, v()));
            }
        }
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.scalar(|| Value::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.scalar(|| Value::Num(v as f64));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.scalar(|| Value::Num(v as f64));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.scalar(|| Value::Num(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        // Only wanted strings are copied.
        self.scalar(|| Value::Str(v.to_owned()));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let top = self.depth == 0;
        let deep = !top && self.depth + 1 >= MAX_DEPTH;
        if self.skip {
            while map.next_key::<IgnoredAny>()?.is_some() {
                if deep {
                    map.next_value::<IgnoredAny>()?;
                } else {
                    map.next_value_seed(Node {
                        w: self.w,
                        depth: self.depth + 1,
                        skip: true,
                    })?;
                }
            }
            return Ok(());
        }
        loop {
            let len = self.w.path.len();
            let key = Key {
                path: &mut self.w.path,
                top,
            };
            if map.next_key_seed(key)?.is_none() {
                self.w.path.truncate(len);
                return Ok(());
            }
            if deep {
                map.next_value::<IgnoredAny>()?;
            } else {
                let skip = !self.w.leads_somewhere();
                map.next_value_seed(Node {
                    w: self.w,
                    depth: self.depth + 1,
                    skip,
                })?;
            }
            self.w.path.truncate(len);
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let deep = self.depth + 1 >= MAX_DEPTH;
        let mut i = 0usize;
        loop {
            let len = self.w.path.len();
            if !self.skip {
                self.w.path.push('.');
                self.w.path.push_str(itoa(i).as_str());
            }
            let more = if deep {
                seq.next_element::<IgnoredAny>()?.is_some()
            } else {
                let skip = self.skip || !self.w.leads_somewhere();
                seq.next_element_seed(Node {
                    w: self.w,
                    depth: self.depth + 1,
                    skip,
                })?
                .is_some()
            };
            self.w.path.truncate(len);
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }
}

fn itoa(i: usize) -> String {
    i.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_like_the_full_walk() {
        let msg = r#"{"a":{"b":[1,{"c":true}]},"n":null,"@k":"v","s":"x","deep":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]} trailing"#;
        let wanted: FxMap<String, usize> = ["@@k", "a.b.0", "a.b.1.c", "s", "n", "a"]
            .iter()
            .enumerate()
            .map(|(i, k)| ((*k).to_owned(), i))
            .collect();
        let mut got = extract(msg, &wanted, false)
            .map(Extracted::into_values)
            .unwrap_or_default();
        got.sort_by_key(|(s, _)| *s);
        assert_eq!(
            got,
            [
                (0, Value::Str("v".into())),
                (1, Value::Num(1.0)),
                (2, Value::Bool(true)),
                (3, Value::Str("x".into())),
            ]
        );
        assert!(
            extract("[1,2]", &wanted, false)
                .map(Extracted::into_values)
                .is_none()
        );
        assert!(
            extract(msg, &wanted, true)
                .map(Extracted::into_values)
                .is_none()
        );
        assert!(
            extract(r#"{"a":"#, &wanted, false)
                .map(Extracted::into_values)
                .is_none()
        );
    }

    #[test]
    fn stops_discovering_after_200_leaves() {
        let fields: Vec<String> = (0..250).map(|i| format!("\"f{i}\":{i}")).collect();
        let msg = format!("{{{}}}", fields.join(","));
        let wanted: FxMap<String, usize> = [("f199".to_owned(), 0), ("f200".to_owned(), 1)]
            .into_iter()
            .collect();
        assert_eq!(
            extract(&msg, &wanted, true).map(Extracted::into_values),
            Some(vec![(0, Value::Num(199.0))])
        );
    }

    #[test]
    fn skipped_subtrees_still_count_towards_the_limit() {
        let items: Vec<String> = (0..250).map(|i| i.to_string()).collect();
        let msg = format!(r#"{{"x":{{"y":[{}]}},"f":1}}"#, items.join(","));
        let wanted: FxMap<String, usize> = [("f".to_owned(), 0)].into_iter().collect();
        assert_eq!(
            extract(&msg, &wanted, true).map(Extracted::into_values),
            Some(Vec::new())
        );
        assert_eq!(extract_full(&msg, &wanted, true), Some(Vec::new()));
        let msg = r#"{"x":{"y":[1,2]},"xy":{"z":3},"x.y":{"1":4},"f":"v"}"#;
        let wanted: FxMap<String, usize> = [("x.y.1", 0), ("f", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(
            extract(msg, &wanted, true).map(Extracted::into_values),
            extract_full(msg, &wanted, true)
        );
        let mut got = extract_full(msg, &wanted, true).unwrap_or_default();
        got.sort_by_key(|(s, _)| *s);
        assert_eq!(
            got,
            [
                (0, Value::Num(2.0)),
                (0, Value::Num(4.0)),
                (1, Value::Str("v".into()))
            ]
        );
    }
}
