//! Interned flattened paths, so a segment build keeps per-path state in a vector indexed by
//! a small number instead of looking each path up by its text for every field of every
//! event.

use crate::bloom::{FastMap, hash64};

/// No path.
pub(crate) const NONE: u32 = u32::MAX;
/// The parent of top-level keys.
pub(super) const ROOT: u32 = u32::MAX - 1;

#[derive(Debug, Clone, Copy)]
struct Info {
    /// Name range in `names`.
    start: u32,
    end: u32,
    /// Where the last key starts within the name; `end` when unknown.
    key: u32,
    parent: u32,
    /// The key is plain (no quote, backslash or control character), so matching it against
    /// a message's raw bytes proves the message holds exactly this key there.
    plain: bool,
    /// Predictions: the first key of an object at this path, the key after this one.
    first: u32,
    next: u32,
}

/// Every path seen, numbered from 0 in order of first sight.
#[derive(Debug, Default)]
pub(crate) struct Paths {
    names: String,
    info: Vec<Info>,
    by_name: FastMap<String, u32>,
    /// (hash of parent and key, id) by open addressing: a key's path without building
    /// the path's text. Entries are checked against `info`, so a collision only costs the
    /// slow way.
    edges: Vec<(u64, u32)>,
    edge_count: usize,
    root_first: u32,
    scratch: String,
}

impl Paths {
    /// The path's text (`a.b.0`).
    pub(crate) fn name(&self, id: u32) -> &str {
        match self.info.get(id as usize) {
            Some(i) => self
                .names
                .get(i.start as usize..i.end as usize)
                .unwrap_or(""),
            None => "",
        }
    }

    /// The id of `name`, if seen.
    pub(crate) fn find(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// The last key of `id`'s name when it is plain.
    pub(crate) fn plain_key(&self, id: u32) -> Option<&str> {
        let i = self.info.get(id as usize)?;
        if !i.plain {
            return None;
        }
        self.names.get(i.key as usize..i.end as usize)
    }

    pub(super) fn parent(&self, id: u32) -> u32 {
        self.info.get(id as usize).map_or(NONE, |i| i.parent)
    }

    /// The key predicted to come first in an object at `parent`.
    pub(super) fn first(&self, parent: u32) -> u32 {
        if parent == ROOT {
            return self.root_first;
        }
        self.info.get(parent as usize).map_or(NONE, |i| i.first)
    }

    pub(super) fn set_first(&mut self, parent: u32, id: u32) {
        if parent == ROOT {
            self.root_first = id;
        } else if let Some(i) = self.info.get_mut(parent as usize) {
            i.first = id;
        }
    }

    /// The key predicted to follow `id` in its object.
    pub(super) fn next(&self, id: u32) -> u32 {
        self.info.get(id as usize).map_or(NONE, |i| i.next)
    }

    pub(super) fn set_next(&mut self, id: u32, next: u32) {
        if let Some(i) = self.info.get_mut(id as usize) {
            i.next = next;
        }
    }

    /// The id of key `key` of an object at `parent`.
    pub(super) fn child(&mut self, parent: u32, key: &str) -> u32 {
        let h = hash64(key.as_bytes(), u64::from(parent)) | 1;
        if !self.edges.is_empty() {
            let mask = self.edges.len() - 1;
            let mut i = (h as usize) & mask;
            while let Some(&(eh, id)) = self.edges.get(i) {
                if eh == 0 {
                    break;
                }
                if eh == h && self.parent(id) == parent && self.plain_key(id) == Some(key) {
                    return id;
                }
                i = (i + 1) & mask;
            }
        }
        let id = self.child_by_name(parent, key);
        if self.parent(id) == parent && self.plain_key(id) == Some(key) {
            self.add_edge(h, id);
        }
        id
    }

    fn add_edge(&mut self, h: u64, id: u32) {
        if (self.edge_count + 1) * 2 > self.edges.len() {
            let old = std::mem::take(&mut self.edges);
            self.edges = vec![(0, 0); (old.len() * 2).max(64)];
            self.edge_count = 0;
            for (oh, oid) in old.into_iter().filter(|e| e.0 != 0) {
                self.add_edge(oh, oid);
            }
        }
        let mask = self.edges.len() - 1;
        let mut i = (h as usize) & mask;
        while self.edges.get(i).is_some_and(|e| e.0 != 0) {
            i = (i + 1) & mask;
        }
        if let Some(e) = self.edges.get_mut(i) {
            *e = (h, id);
            self.edge_count += 1;
        }
    }

    fn child_by_name(&mut self, parent: u32, key: &str) -> u32 {
        let mut name = std::mem::take(&mut self.scratch);
        name.clear();
        if parent != ROOT {
            name.push_str(self.name(parent));
            name.push('.');
        }
        let key_at = name.len();
        name.push_str(key);
        let plain = !key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
        let id = self.intern(&name, key_at, parent, plain);
        self.scratch = name;
        id
    }

    /// The id of element `i` of an array at `parent`.
    pub(super) fn element(&mut self, parent: u32, i: usize) -> u32 {
        let mut name = std::mem::take(&mut self.scratch);
        name.clear();
        name.push_str(self.name(parent));
        name.push('.');
        let key_at = name.len();
        name.push_str(itoa::Buffer::new().format(i));
        let id = self.intern(&name, key_at, parent, false);
        self.scratch = name;
        id
    }

    /// The id of a path known only by its text (the serde flattener's).
    pub(super) fn by_text(&mut self, name: &str) -> u32 {
        self.intern(name, name.len(), NONE, false)
    }

    fn intern(&mut self, name: &str, key_at: usize, parent: u32, plain: bool) -> u32 {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let id = self.info.len() as u32;
        let start = self.names.len();
        self.names.push_str(name);
        self.info.push(Info {
            start: start as u32,
            end: self.names.len() as u32,
            key: (start + key_at) as u32,
            parent,
            plain,
            first: NONE,
            next: NONE,
        });
        self.by_name.insert(name.to_owned(), id);
        id
    }
}
