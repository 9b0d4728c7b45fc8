//! Levels TRACE..FATAL, their spellings per profile and parsing of configured values.

use crate::config::Profile;

/// A record level. `tracing` has no FATAL: it is produced by the panic hook and by
/// [`fatal!`](crate::fatal), which log at ERROR with a marker field the layer recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Finest detail.
    Trace = 0,
    /// Diagnostic detail.
    Debug = 1,
    /// Normal operation.
    Info = 2,
    /// Something unexpected that the function survived.
    Warn = 3,
    /// A failed operation.
    Error = 4,
    /// The process or invocation cannot continue (panics).
    Fatal = 5,
}

/// `OFF`/`SILENT` as a level rank: above every real level.
pub(crate) const OFF: u8 = 6;

impl Level {
    pub(crate) const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    pub(crate) fn from_tracing(l: &tracing_core::Level) -> Level {
        match *l {
            tracing_core::Level::TRACE => Level::Trace,
            tracing_core::Level::DEBUG => Level::Debug,
            tracing_core::Level::INFO => Level::Info,
            tracing_core::Level::WARN => Level::Warn,
            _ => Level::Error,
        }
    }

    pub(crate) fn rank(self) -> u8 {
        self as u8
    }

    /// The spelling printed in the `level` key.
    pub(crate) fn name(self, profile: Profile) -> &'static str {
        match (self, profile) {
            (Level::Trace, Profile::PowertoolsPython) => "DEBUG",
            (Level::Warn, Profile::PowertoolsPython) => "WARNING",
            (Level::Fatal, Profile::PowertoolsPython | Profile::PowertoolsTs) => "CRITICAL",
            (Level::Trace, _) => "TRACE",
            (Level::Debug, _) => "DEBUG",
            (Level::Info, _) => "INFO",
            (Level::Warn, _) => "WARN",
            (Level::Error, _) => "ERROR",
            (Level::Fatal, _) => "FATAL",
        }
    }

    pub(crate) fn to_tracing_filter(rank: u8) -> tracing_core::LevelFilter {
        match rank {
            0 => tracing_core::LevelFilter::TRACE,
            1 => tracing_core::LevelFilter::DEBUG,
            2 => tracing_core::LevelFilter::INFO,
            3 => tracing_core::LevelFilter::WARN,
            4 | 5 => tracing_core::LevelFilter::ERROR,
            _ => tracing_core::LevelFilter::OFF,
        }
    }
}

/// Parses a configured level (any case, trimmed): a level rank, or [`OFF`].
pub(crate) fn parse_rank(s: &str) -> Option<u8> {
    let s = s.trim();
    let ranks: [(&str, u8); 10] = [
        ("TRACE", 0),
        ("DEBUG", 1),
        ("INFO", 2),
        ("WARN", 3),
        ("WARNING", 3),
        ("ERROR", 4),
        ("FATAL", 5),
        ("CRITICAL", 5),
        ("SILENT", OFF),
        ("OFF", OFF),
    ];
    ranks
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|&(_, r)| r)
}

pub(crate) fn rank_name(rank: u8) -> &'static str {
    match Level::ALL.get(rank as usize) {
        Some(l) => l.name(Profile::Powertools),
        None => "OFF",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_spelling_in_any_case() {
        assert_eq!(parse_rank(" warning "), Some(3));
        assert_eq!(parse_rank("Warn"), Some(3));
        assert_eq!(parse_rank("critical"), Some(5));
        assert_eq!(parse_rank("fatal"), Some(5));
        assert_eq!(parse_rank("trace"), Some(0));
        assert_eq!(parse_rank("silent"), Some(OFF));
        assert_eq!(parse_rank("bogus"), None);
        assert_eq!(parse_rank(""), None);
    }

    #[test]
    fn profile_spellings() {
        assert_eq!(Level::Warn.name(Profile::PowertoolsPython), "WARNING");
        assert_eq!(Level::Trace.name(Profile::PowertoolsPython), "DEBUG");
        assert_eq!(Level::Fatal.name(Profile::PowertoolsTs), "CRITICAL");
        assert_eq!(Level::Warn.name(Profile::PowertoolsTs), "WARN");
        assert_eq!(Level::Fatal.name(Profile::Powertools), "FATAL");
    }
}
