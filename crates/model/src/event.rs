use std::fmt;

use crate::ModelError;

/// An event as a client sends it in PutLogEvents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputEvent {
    /// Event time in milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The raw message.
    pub message: String,
}

/// An event as stored: the client's fields plus what the server assigned at ingestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Event time in milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Server time of ingestion in milliseconds since the Unix epoch.
    pub ingestion_time: i64,
    /// Ingest sequence number: unique and increasing across the whole store; orders ties.
    pub seq: u64,
    /// The raw message.
    pub message: String,
}

impl StoredEvent {
    /// The event's stable identifier.
    pub fn event_id(&self) -> EventId {
        EventId(self.seq)
    }

    /// The ordering key within a stream and across streams: (timestamp, sequence).
    pub fn key(&self) -> (i64, u64) {
        (self.timestamp, self.seq)
    }
}

/// A stable event identifier, printed as a 56-digit decimal like AWS's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(pub u64);

impl EventId {
    /// Parses the 56-digit form produced by [`EventId`]'s `Display`.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        if text.len() != 56 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ModelError::EventId);
        }
        let (zeros, digits) = text.split_at(36);
        if zeros.bytes().any(|b| b != b'0') {
            return Err(ModelError::EventId);
        }
        digits.parse().map(Self).map_err(|_| ModelError::EventId)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:056}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_round_trip() {
        for seq in [0, 1, 42, u64::MAX] {
            let text = EventId(seq).to_string();
            assert_eq!(text.len(), 56);
            assert_eq!(EventId::parse(&text), Ok(EventId(seq)));
        }
        assert!(EventId::parse("12").is_err());
        assert!(EventId::parse(&"9".repeat(56)).is_err());
        assert!(EventId::parse(&format!("{:0>56}", "1a")).is_err());
    }
}
