//! Bridge from the `log` crate: `log` records become records of the same layer, with their
//! own `file:line` as `location` and the invocation keys of the current span.

use crate::layer::PowertoolsLayer;

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
        let capped = self
            .layer
            .as_ref()
            .is_some_and(|l| l.target_capped(metadata.target()));
        !(capped && metadata.level() > log::Level::Warn)
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
        match record.level() {
            log::Level::Error => {
                tracing::error!(target: "lookout_logger::log", __lookout_location = loc, "{args}")
            }
            log::Level::Warn => {
                tracing::warn!(target: "lookout_logger::log", __lookout_location = loc, "{args}")
            }
            log::Level::Info => {
                tracing::info!(target: "lookout_logger::log", __lookout_location = loc, "{args}")
            }
            log::Level::Debug => {
                tracing::debug!(target: "lookout_logger::log", __lookout_location = loc, "{args}")
            }
            log::Level::Trace => {
                tracing::trace!(target: "lookout_logger::log", __lookout_location = loc, "{args}")
            }
        }
    }

    fn flush(&self) {
        crate::layer::with_layer(|l| l.flush_writer());
    }
}
