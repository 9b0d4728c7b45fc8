use crate::ModelError;

const ALLOWED: [u16; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub(crate) const ALLOWED_TEXT: &str = "[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]";

const DAY_MS: i64 = 86_400_000;

/// A retention period in days, restricted to the values AWS accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RetentionDays(u16);

impl RetentionDays {
    /// Validates `days` against the allowed set (`spec/logs-api.md` §3.3).
    pub fn new(days: i64) -> Result<Self, ModelError> {
        ALLOWED
            .iter()
            .copied()
            .find(|&d| i64::from(d) == days)
            .map(Self)
            .ok_or(ModelError::Retention(days))
    }

    /// The number of days.
    pub fn days(self) -> u16 {
        self.0
    }

    /// The period in milliseconds.
    pub fn millis(self) -> i64 {
        i64::from(self.0) * DAY_MS
    }

    /// The oldest timestamp still retained at `now_ms`: events strictly older are expired.
    pub fn cutoff(self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(self.millis())
    }

    /// All allowed values, smallest first.
    pub fn allowed() -> impl Iterator<Item = Self> {
        ALLOWED.iter().copied().map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_enum_set_is_accepted() {
        let all: Vec<u16> = RetentionDays::allowed().map(RetentionDays::days).collect();
        assert_eq!(all.len(), 22);
        for d in -1..4000 {
            assert_eq!(
                RetentionDays::new(d).is_ok(),
                all.contains(&(d as u16)) && d >= 0,
                "{d}"
            );
        }
        let e = RetentionDays::new(2).unwrap_err().to_string();
        assert!(e.contains("[1, 3, 5,"), "{e}");
        assert_eq!(
            RetentionDays::new(1).unwrap().cutoff(DAY_MS * 3),
            DAY_MS * 2
        );
    }
}
