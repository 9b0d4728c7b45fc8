//! The embedded metastore: one SQLite database file.

use std::collections::BTreeMap;
use std::path::Path;

use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{GroupRecord, Metastore, NewGroup, Publish, SegmentRecord, StreamRecord};
use crate::error::StorageError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS groups(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  creation_time INTEGER NOT NULL,
  retention_days INTEGER,
  kms_key_id TEXT,
  tags TEXT NOT NULL DEFAULT '{}',
  stored_bytes INTEGER NOT NULL DEFAULT 0,
  class TEXT NOT NULL,
  deletion_protection INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS streams(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  first_event INTEGER,
  last_event INTEGER,
  last_ingestion INTEGER,
  stored_bytes INTEGER NOT NULL DEFAULT 0,
  UNIQUE(group_id, name));
CREATE TABLE IF NOT EXISTS segments(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  group_id INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  events INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,
  size INTEGER NOT NULL,
  index_offset INTEGER NOT NULL,
  index_len INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS segments_by_group ON segments(group_id, max_ts);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
";

const GROUP_COLS: &str = "id, name, creation_time, retention_days, kms_key_id, tags, stored_bytes, class, deletion_protection";
const STREAM_COLS: &str =
    "id, group_id, name, creation_time, first_event, last_event, last_ingestion, stored_bytes";
const SEGMENT_COLS: &str =
    "id, key, group_id, min_ts, max_ts, events, raw_bytes, size, index_offset, index_len";

/// Metastore in an SQLite database (a file, or memory for tests).
#[derive(Debug)]
pub struct SqliteMetastore {
    conn: Mutex<Connection>,
}

impl SqliteMetastore {
    /// Opens or creates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let conn = Connection::open(path)?;
        // WAL journaling with full sync: publications are rare and must be durable.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Keep the WAL file small after checkpoints; it counts towards stored bytes.
        conn.pragma_update(None, "journal_size_limit", 1_048_576)?;
        Self::init(conn)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Result<Self, StorageError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StorageError> {
        conn.execute_batch(SCHEMA)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }
}

fn group_row(r: &Row<'_>) -> rusqlite::Result<GroupRecord> {
    let tags: String = r.get(5)?;
    Ok(GroupRecord {
        id: r.get::<_, i64>(0)? as u64,
        name: r.get(1)?,
        creation_time: r.get(2)?,
        retention_days: r
            .get::<_, Option<i64>>(3)?
            .and_then(|d| u16::try_from(d).ok()),
        kms_key_id: r.get(4)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        stored_bytes: r.get::<_, i64>(6)?.max(0) as u64,
        class: r.get(7)?,
        deletion_protection: r.get::<_, i64>(8)? != 0,
    })
}

fn stream_row(r: &Row<'_>) -> rusqlite::Result<StreamRecord> {
    Ok(StreamRecord {
        id: r.get::<_, i64>(0)? as u64,
        group_id: r.get::<_, i64>(1)? as u64,
        name: r.get(2)?,
        creation_time: r.get(3)?,
        first_event: r.get(4)?,
        last_event: r.get(5)?,
        last_ingestion: r.get(6)?,
        stored_bytes: r.get::<_, i64>(7)?.max(0) as u64,
    })
}

fn segment_row(r: &Row<'_>) -> rusqlite::Result<SegmentRecord> {
    Ok(SegmentRecord {
        id: r.get::<_, i64>(0)? as u64,
        key: r.get(1)?,
        group_id: r.get::<_, i64>(2)? as u64,
        min_ts: r.get(3)?,
        max_ts: r.get(4)?,
        events: r.get::<_, i64>(5)? as u64,
        raw_bytes: r.get::<_, i64>(6)? as u64,
        size: r.get::<_, i64>(7)? as u64,
        index_offset: r.get::<_, i64>(8)? as u64,
        index_len: r.get::<_, i64>(9)? as u64,
    })
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

fn tags_json(tags: &BTreeMap<String, String>) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "{}".into())
}

impl Metastore for SqliteMetastore {
    fn create_group(&self, g: &NewGroup) -> Result<GroupRecord, StorageError> {
        let conn = self.conn.lock();
        let class = if g.class.is_empty() {
            "STANDARD"
        } else {
            g.class.as_str()
        };
        let res = conn.execute(
            "INSERT INTO groups(name, creation_time, kms_key_id, tags, class, deletion_protection) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![g.name, g.creation_time, g.kms_key_id, tags_json(&g.tags), class, g.deletion_protection],
        );
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(StorageError::GroupExists),
            Err(e) => return Err(e.into()),
        }
        let id = conn.last_insert_rowid() as u64;
        Ok(GroupRecord {
            id,
            name: g.name.clone(),
            creation_time: g.creation_time,
            retention_days: None,
            kms_key_id: g.kms_key_id.clone(),
            tags: g.tags.clone(),
            stored_bytes: 0,
            class: class.to_owned(),
            deletion_protection: g.deletion_protection,
        })
    }

    fn group(&self, name: &str) -> Result<Option<GroupRecord>, StorageError> {
        let conn = self.conn.lock();
        let sql = format!("SELECT {GROUP_COLS} FROM groups WHERE name = ?1");
        Ok(conn.query_row(&sql, [name], group_row).optional()?)
    }

    fn group_by_id(&self, id: u64) -> Result<Option<GroupRecord>, StorageError> {
        let conn = self.conn.lock();
        let sql = format!("SELECT {GROUP_COLS} FROM groups WHERE id = ?1");
        Ok(conn.query_row(&sql, [id as i64], group_row).optional()?)
    }

    fn list_groups(
        &self,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<GroupRecord>, StorageError> {
        let conn = self.conn.lock();
        let sql = format!(
            "SELECT {GROUP_COLS} FROM groups WHERE (?1 IS NULL OR substr(name, 1, length(?1)) = ?1) AND (?2 IS NULL OR name > ?2) ORDER BY name LIMIT ?3"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![prefix, after, limit as i64], group_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_group(&self, name: &str) -> Result<(GroupRecord, Vec<String>), StorageError> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        let sql = format!("SELECT {GROUP_COLS} FROM groups WHERE name = ?1");
        let group = tx
            .query_row(&sql, [name], group_row)
            .optional()?
            .ok_or(StorageError::GroupNotFound)?;
        let keys = {
            let mut stmt = tx.prepare("SELECT key FROM segments WHERE group_id = ?1")?;
            let rows = stmt.query_map([group.id as i64], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        tx.execute(
            "DELETE FROM segments WHERE group_id = ?1",
            [group.id as i64],
        )?;
        tx.execute("DELETE FROM streams WHERE group_id = ?1", [group.id as i64])?;
        tx.execute("DELETE FROM groups WHERE id = ?1", [group.id as i64])?;
        tx.commit()?;
        Ok((group, keys))
    }

    fn set_retention(&self, name: &str, days: Option<u16>) -> Result<(), StorageError> {
        let conn = self.conn.lock();
        let n = conn.execute(
            "UPDATE groups SET retention_days = ?2 WHERE name = ?1",
            params![name, days],
        )?;
        if n == 0 {
            return Err(StorageError::GroupNotFound);
        }
        Ok(())
    }

    fn set_tags(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), StorageError> {
        let conn = self.conn.lock();
        let n = conn.execute(
            "UPDATE groups SET tags = ?2 WHERE name = ?1",
            params![name, tags_json(tags)],
        )?;
        if n == 0 {
            return Err(StorageError::GroupNotFound);
        }
        Ok(())
    }

    fn create_stream(
        &self,
        group_id: u64,
        name: &str,
        creation_time: i64,
    ) -> Result<StreamRecord, StorageError> {
        let conn = self.conn.lock();
        let res = conn.execute(
            "INSERT INTO streams(group_id, name, creation_time) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM groups WHERE id = ?1)",
            params![group_id as i64, name, creation_time],
        );
        match res {
            Ok(0) => return Err(StorageError::GroupNotFound),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(StorageError::StreamExists),
            Err(e) => return Err(e.into()),
        }
        Ok(StreamRecord {
            id: conn.last_insert_rowid() as u64,
            group_id,
            name: name.to_owned(),
            creation_time,
            first_event: None,
            last_event: None,
            last_ingestion: None,
            stored_bytes: 0,
        })
    }

    fn stream(&self, group_id: u64, name: &str) -> Result<Option<StreamRecord>, StorageError> {
        let conn = self.conn.lock();
        let sql = format!("SELECT {STREAM_COLS} FROM streams WHERE group_id = ?1 AND name = ?2");
        let mut stmt = conn.prepare_cached(&sql)?;
        Ok(stmt
            .query_row(params![group_id as i64, name], stream_row)
            .optional()?)
    }

    fn list_streams(
        &self,
        group_id: u64,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamRecord>, StorageError> {
        let conn = self.conn.lock();
        let sql = format!(
            "SELECT {STREAM_COLS} FROM streams WHERE group_id = ?1 AND (?2 IS NULL OR substr(name, 1, length(?2)) = ?2) AND (?3 IS NULL OR name > ?3) ORDER BY name LIMIT ?4"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                group_id as i64,
                prefix,
                after,
                limit.min(i64::MAX as usize) as i64
            ],
            stream_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_stream(&self, group_id: u64, name: &str) -> Result<StreamRecord, StorageError> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        let sql = format!("SELECT {STREAM_COLS} FROM streams WHERE group_id = ?1 AND name = ?2");
        let s = tx
            .query_row(&sql, params![group_id as i64, name], stream_row)
            .optional()?
            .ok_or(StorageError::StreamNotFound)?;
        tx.execute("DELETE FROM streams WHERE id = ?1", [s.id as i64])?;
        tx.execute(
            "UPDATE groups SET stored_bytes = max(0, stored_bytes - ?2) WHERE id = ?1",
            params![group_id as i64, s.stored_bytes as i64],
        )?;
        tx.commit()?;
        Ok(s)
    }

    fn segments(
        &self,
        group_id: u64,
        min_ts: i64,
        max_ts: i64,
    ) -> Result<Vec<SegmentRecord>, StorageError> {
        let conn = self.conn.lock();
        let sql = format!(
            "SELECT {SEGMENT_COLS} FROM segments WHERE group_id = ?1 AND max_ts >= ?2 AND min_ts <= ?3 ORDER BY min_ts, id"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![group_id as i64, min_ts, max_ts], segment_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn all_segment_keys(&self) -> Result<Vec<String>, StorageError> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare("SELECT key FROM segments")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn expired_segments(&self, now_ms: i64) -> Result<Vec<SegmentRecord>, StorageError> {
        let conn = self.conn.lock();
        let cols = SEGMENT_COLS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM segments s JOIN groups g ON g.id = s.group_id WHERE g.retention_days IS NOT NULL AND s.max_ts < ?1 - g.retention_days * 86400000"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([now_ms], segment_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn publish(&self, p: &Publish) -> Result<(), StorageError> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        // Statements prepared once per publish (a flush adds hundreds of segments and
        // updates thousands of streams), and one update per group, not per stream.
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO segments(key, group_id, min_ts, max_ts, events, raw_bytes, size, index_offset, index_len) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS (SELECT 1 FROM groups WHERE id = ?2)",
            )?;
            for s in &p.add {
                insert.execute(params![
                    s.key,
                    s.group_id as i64,
                    s.min_ts,
                    s.max_ts,
                    s.events as i64,
                    s.raw_bytes as i64,
                    s.size as i64,
                    s.index_offset as i64,
                    s.index_len as i64
                ])?;
            }
            let mut remove = tx.prepare_cached("DELETE FROM segments WHERE id = ?1")?;
            for id in &p.remove {
                remove.execute([*id as i64])?;
            }
            let mut group_of = tx.prepare_cached("SELECT group_id FROM streams WHERE id = ?1")?;
            let mut stream = tx.prepare_cached(
                "UPDATE streams SET first_event = min(coalesce(first_event, ?2), ?2), last_event = max(coalesce(last_event, ?3), ?3), last_ingestion = max(coalesce(last_ingestion, ?4), ?4), stored_bytes = stored_bytes + ?5 WHERE id = ?1",
            )?;
            let mut grown: BTreeMap<i64, i64> = BTreeMap::new();
            for s in &p.stats {
                let group: Option<i64> = group_of
                    .query_row([s.stream_id as i64], |r| r.get(0))
                    .optional()?;
                // A stream deleted before its data was flushed keeps no statistics.
                let Some(group) = group else { continue };
                stream.execute(params![
                    s.stream_id as i64,
                    s.first_event,
                    s.last_event,
                    s.last_ingestion,
                    s.bytes as i64
                ])?;
                *grown.entry(group).or_default() += s.bytes as i64;
            }
            let mut grow = tx.prepare_cached(
                "UPDATE groups SET stored_bytes = stored_bytes + ?2 WHERE id = ?1",
            )?;
            for (group, bytes) in grown {
                grow.execute(params![group, bytes])?;
            }
            let mut shrink = tx.prepare_cached(
                "UPDATE groups SET stored_bytes = max(0, stored_bytes - ?2) WHERE id = ?1",
            )?;
            for (group, bytes) in &p.shrink {
                shrink.execute(params![*group as i64, *bytes as i64])?;
            }
        }
        if let Some(c) = p.checkpoint {
            tx.execute(
                "INSERT INTO meta(key, value) VALUES ('checkpoint', ?1) ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
                [c as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn checkpoint(&self) -> Result<u64, StorageError> {
        let conn = self.conn.lock();
        let v: Option<i64> = conn
            .query_row("SELECT value FROM meta WHERE key = 'checkpoint'", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(v.unwrap_or(0).max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(key: &str, group_id: u64) -> SegmentRecord {
        SegmentRecord {
            id: 0,
            key: key.into(),
            group_id,
            min_ts: 1,
            max_ts: 2,
            events: 1,
            raw_bytes: 1,
            size: 10,
            index_offset: 0,
            index_len: 1,
        }
    }

    #[test]
    fn segments_of_a_group_deleted_meanwhile_are_not_published() {
        let m = SqliteMetastore::in_memory().unwrap();
        let g = m
            .create_group(&NewGroup {
                name: "gone".into(),
                ..NewGroup::default()
            })
            .unwrap();
        let kept = m
            .create_group(&NewGroup {
                name: "kept".into(),
                ..NewGroup::default()
            })
            .unwrap();
        m.delete_group("gone").unwrap();
        m.publish(&Publish {
            add: vec![segment("late", g.id), segment("fine", kept.id)],
            ..Publish::default()
        })
        .unwrap();
        assert_eq!(m.all_segment_keys().unwrap(), ["fine"]);
    }
}
