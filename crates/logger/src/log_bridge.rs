//! Bridge from the `log` crate: `log` records become records of the same layer, with their
//! own `file:line` as `location`, the invocation keys of the current span, and the level
//! decisions (per-target directives included) a `tracing` event of their target gets.

use crate::layer::PowertoolsLayer;
use crate::level::Level;

/// A `log::Log` implementation feeding the current `tracing` dispatcher.
#[derive(Debug)]
pub struct LogBridge {
    max: log::LevelFilter,
    layer: Option<PowertoolsLayer>,
}

impl LogBridge {
    /// A bridge passing records at or above `max`. With `layer`, targets the layer caps
    /// (hyper, rustls, …) are capped at WARN here too.
    pub fn new(max: log::LevelFilter, layer: Option<PowertoolsLayer>) -> Self {
        Self { max, layer }
    }

    /// Installs the bridge as the global `log` logger.
    pub fn install(self) -> Result<(), crate::Error> {
        let max = self.max;
        log::set_boxed_logger(Box::new(self)).map_err(|_| crate::Error::LoggerAlreadySet)?;
        log::set_max_level(max);
        Ok(())
    }
}

impl log::Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        if metadata.level() > self.max {
            return false;
        }
        // The same decision as for a `tracing` event of this target: per-target
        // directives, the ALC floor, sampling and buffering, third-party caps.
        let rank = match metadata.level() {
            log::Level::Error => Level::Error,
            log::Level::Warn => Level::Warn,
            log::Level::Info => Level::Info,
            log::Level::Debug => Level::Debug,
            log::Level::Trace => Level::Trace,
        }
        .rank();
        self.layer
            .as_ref()
            .is_none_or(|l| l.level_enabled(rank, metadata.target()))
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let location = match (record.file(), record.line()) {
            (Some(f), Some(l)) => format!("{f}:{l}"),
            _ => record.target().to_owned(),
        };
        let loc = location.as_str();
        let args = record.args();
        let tgt = record.target();
        match record.level() {
            log::Level::Error => {
                tracing::error!(target: "lookout_logger::log", __lookout_location = loc, __lookout_target = tgt, "{args}")
            }
            log::Level::Warn => {
                tracing::warn!(target: "lookout_logger::log", __lookout_location = loc, __lookout_target = tgt, "{args}")
            }
            log::Level::Info => {
                tracing::info!(target: "lookout_logger::log", __lookout_location = loc, __lookout_target = tgt, "{args}")
            }
            log::Level::Debug => {
                tracing::debug!(target: "lookout_logger::log", __lookout_location = loc, __lookout_target = tgt, "{args}")
            }
            log::Level::Trace => {
                tracing::trace!(target: "lookout_logger::log", __lookout_location = loc, __lookout_target = tgt, "{args}")
            }
        }
    }

    fn flush(&self) {
        crate::layer::with_layer(|l| l.flush_writer());
    }
}
