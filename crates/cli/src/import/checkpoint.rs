//! The import journal that makes `lookout import` resumable.
//!
//! Events are buffered per stream and batches are sent out of input order, several at a time,
//! so "lines before N are sent" is not enough. After every accepted batch one JSON line
//! records its stream and the input lines `[from, through]` it covered: a batch holds every
//! event of its stream in that range. A rerun replays the journal and skips exactly the events
//! already sent, whatever order batches completed in. Appending a line per batch keeps the cost
//! constant however many streams are in flight.
//!
//! A batch whose request was in flight when the import stopped may or may not have been
//! stored: a `sending` line is written before each request, and a rerun asks the server
//! about every batch that has one but no matching `sent` line.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// What an import is: a journal only resumes the same one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity {
    /// Target group.
    pub group: String,
    /// `--stream`, if given.
    pub stream: Option<String>,
    /// Input format name.
    pub format: String,
    /// Input files with their sizes.
    pub files: Vec<(String, u64)>,
    /// The server imported into.
    pub endpoint: String,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Entry {
    Header {
        identity: Identity,
    },
    Batch {
        stream: String,
        from: u64,
        through: u64,
        events: u64,
    },
    Sending {
        sending: String,
        from: u64,
        through: u64,
    },
    Complete {
        complete: bool,
    },
}

/// What earlier runs already sent.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Stream → input line ranges (inclusive) whose events of that stream were sent.
    pub sent: HashMap<String, Vec<(u64, u64)>>,
    /// Events sent by earlier runs.
    pub events: u64,
    /// Batches (stream, from, through) that were in flight when an earlier run stopped.
    pub uncertain: Vec<(String, u64, u64)>,
    /// The earlier run finished.
    pub complete: bool,
}

impl Progress {
    /// The index in `uncertain` of the in-flight batch that holds the event on `line` of
    /// `stream`, if any.
    pub(crate) fn uncertain_batch(&self, line: u64, stream: &str) -> Option<usize> {
        self.uncertain
            .iter()
            .position(|(s, a, b)| s == stream && (*a..=*b).contains(&line))
    }

    /// Whether the event on `line` of `stream` was sent by an earlier run.
    pub(crate) fn already_sent(&self, line: u64, stream: &str) -> bool {
        self.sent
            .get(stream)
            .is_some_and(|ranges| ranges.iter().any(|(a, b)| (*a..=*b).contains(&line)))
    }
}

/// An open journal.
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Opens the journal at `path`: replays it if it belongs to `identity`, or starts a new
    /// one (when `restart`, or when it records a finished import of something else).
    pub(crate) fn open(
        path: &Path,
        identity: &Identity,
        restart: bool,
    ) -> Result<(Self, Progress)> {
        let mut progress = Progress::default();
        let mut existing = path.exists() && !restart;
        if existing {
            let f = File::open(path)
                .with_context(|| format!("cannot read checkpoint {}", path.display()))?;
            let mut lines = BufReader::new(f).lines();
            let header: Option<Entry> = match lines.next() {
                Some(line) => serde_json::from_str(&line?).ok(),
                None => None,
            };
            let ours =
                matches!(header, Some(Entry::Header { identity: found }) if found == *identity);
            let mut sending = Vec::new();
            let mut sent: std::collections::HashSet<(String, u64, u64)> =
                std::collections::HashSet::new();
            for line in lines {
                // A line cut short by an interruption is skipped.
                let Ok(entry) = serde_json::from_str::<Entry>(&line?) else {
                    continue;
                };
                match entry {
                    Entry::Batch {
                        stream,
                        from,
                        through,
                        events,
                    } => {
                        sent.insert((stream.clone(), from, through));
                        progress
                            .sent
                            .entry(stream)
                            .or_default()
                            .push((from, through));
                        progress.events += events;
                    }
                    Entry::Sending {
                        sending: stream,
                        from,
                        through,
                    } => sending.push((stream, from, through)),
                    Entry::Complete { complete } => progress.complete |= complete,
                    Entry::Header { .. } => {}
                }
            }
            sending.retain(|b| !sent.contains(b));
            sending.sort();
            sending.dedup();
            progress.uncertain = sending;
            if !ours {
                // A finished import of something else needs no protecting: start afresh.
                if !progress.complete {
                    bail!(
                        "checkpoint {} belongs to another unfinished import (other files, group, endpoint or options): pass --restart to start over, or --checkpoint FILE to keep both",
                        path.display()
                    );
                }
                progress = Progress::default();
                existing = false;
            }
        }
        let file = if existing {
            OpenOptions::new().append(true).open(path)
        } else {
            File::create(path)
        }
        .with_context(|| format!("cannot write checkpoint {}", path.display()))?;
        let mut journal = Self {
            file,
            path: path.to_path_buf(),
        };
        if existing {
            // Entries after a partial line must start on a line of their own.
            let ends_cleanly = std::fs::read(path)
                .map(|b| b.last().is_none_or(|c| *c == b'\n'))
                .unwrap_or(true);
            if !ends_cleanly {
                journal
                    .file
                    .write_all(b"\n")
                    .with_context(|| format!("cannot write checkpoint {}", path.display()))?;
            }
        } else {
            journal.append(&Entry::Header {
                identity: identity.clone(),
            })?;
        }
        Ok((journal, progress))
    }

    fn append(&mut self, entry: &Entry) -> Result<()> {
        let mut line = serde_json::to_vec(entry)?;
        line.push(b'\n');
        // One write per entry: an interruption leaves at most one partial last line.
        self.file
            .write_all(&line)
            .with_context(|| format!("cannot write checkpoint {}", self.path.display()))
    }

    /// Records that a batch is about to be sent.
    pub(crate) fn sending(&mut self, stream: &str, from: u64, through: u64) -> Result<()> {
        self.append(&Entry::Sending {
            sending: stream.to_string(),
            from,
            through,
        })
    }

    /// Records an accepted batch.
    pub(crate) fn batch_sent(
        &mut self,
        stream: &str,
        from: u64,
        through: u64,
        events: u64,
    ) -> Result<()> {
        self.append(&Entry::Batch {
            stream: stream.to_string(),
            from,
            through,
            events,
        })
    }

    /// Records that the whole input was sent.
    pub(crate) fn complete(&mut self) -> Result<()> {
        self.append(&Entry::Complete { complete: true })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            group: "g".into(),
            stream: None,
            format: "jsonl".into(),
            files: vec![("f".into(), 10)],
            endpoint: "http://127.0.0.1:4588".into(),
        }
    }

    #[test]
    fn replays_what_was_sent_and_refuses_another_import() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ck");
        {
            let (mut j, p) = Journal::open(&path, &identity(), false).unwrap();
            assert!(p.sent.is_empty());
            j.sending("a", 2, 7).unwrap();
            j.sending("b", 0, 9).unwrap();
            j.batch_sent("a", 2, 7, 3).unwrap();
            j.batch_sent("b", 0, 9, 2).unwrap();
            j.sending("d", 3, 4).unwrap();
        }
        // An interrupted write leaves a partial line behind.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"stream\":\"c\",\"thr")
            .unwrap();
        {
            let (mut j, p) = Journal::open(&path, &identity(), false).unwrap();
            assert_eq!((p.events, p.complete), (5, false));
            j.batch_sent("c", 12, 12, 1).unwrap();
        }
        let (_, p) = Journal::open(&path, &identity(), false).unwrap();
        assert_eq!(p.events, 6);
        assert_eq!(
            p.uncertain,
            [("d".to_string(), 3, 4)],
            "in flight when stopped"
        );
        assert_eq!(p.uncertain_batch(4, "d"), Some(0));
        assert_eq!(p.uncertain_batch(4, "a"), None);
        assert!(p.already_sent(12, "c"));
        assert!(!p.already_sent(4, "zzz"));
        assert!(p.already_sent(7, "a"));
        assert!(!p.already_sent(1, "a"));
        assert!(!p.already_sent(8, "a"));
        assert!(!p.already_sent(6, "c"));
        let mut other = identity();
        other.group = "h".into();
        let err = Journal::open(&path, &other, false).err().unwrap();
        assert!(err.to_string().contains("--restart"), "{err}");
        let (mut j, p) = Journal::open(&path, &other, true).unwrap();
        assert_eq!(p.events, 0);
        j.complete().unwrap();
        let (_, p) = Journal::open(&path, &identity(), false).unwrap();
        assert_eq!(
            (p.events, p.complete),
            (0, false),
            "a finished other import is replaced"
        );
    }
}
