//! Builder, environment resolution and the resolved configuration the layer runs with.

use std::collections::HashMap;
use std::sync::Arc;

use crate::level::{self, Level, OFF};
use crate::timestamp::{Clock, TimestampFormat, Zone};
use crate::writer::{RecordWriter, StdoutWriter};

/// Output shape: key names, order and spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Profile {
    /// Powertools keys with this crate's fixes: RFC 3339 timestamps, numeric memory size,
    /// `WARN`/`FATAL`, `error` objects (default).
    #[default]
    Powertools,
    /// Key for key what Powertools Python prints: `WARNING`/`CRITICAL`, Python timestamp
    /// shape, string `function_memory_size`, `exception`/`exception_name`/`stack_trace`.
    /// One difference in order: `correlation_id` always follows the invocation's context
    /// keys, where Python places it after any key appended before it was set.
    PowertoolsPython,
    /// Powertools TypeScript's order (no `location`), `CRITICAL`, `sampling_rate` always.
    PowertoolsTs,
    /// Lambda's own JSON application-log shape: `timestamp`, `level`, `message`,
    /// `requestId`, then fields.
    Lambda,
}

/// Debug buffering ("debug only when something fails"), see the crate docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferConfig {
    /// Most bytes held per invocation; the oldest records are evicted beyond it.
    pub max_bytes: usize,
    /// Highest level that is buffered instead of written.
    pub buffer_at: Level,
    /// Flush before writing an ERROR or FATAL record.
    pub flush_on_error_log: bool,
    /// Flush when the handler returns an error (Lambda integration).
    pub flush_on_handler_error: bool,
}

impl Default for BufferConfig {
    fn default() -> Self {
        Self {
            max_bytes: 20_480,
            buffer_at: Level::Debug,
            flush_on_error_log: true,
            flush_on_handler_error: true,
        }
    }
}

/// Where configuration values from the environment come from.
#[derive(Clone, Debug, Default)]
pub(crate) enum EnvSource {
    #[default]
    Process,
    Map(HashMap<String, String>),
}

impl EnvSource {
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        match self {
            EnvSource::Process => std::env::var(name).ok(),
            EnvSource::Map(m) => m.get(name).cloned(),
        }
    }
}

/// How invocations are picked for debug sampling.
#[derive(Clone, Debug)]
pub(crate) enum SamplerKind {
    Random(u64),
    Coherent(u64),
    Sequence(Vec<bool>),
}

/// Builds a [`PowertoolsLayer`](crate::PowertoolsLayer). Every setting given here wins over
/// the environment, except the level floor set by Lambda's Advanced Logging Controls.
pub struct LoggerBuilder {
    pub(crate) service: Option<String>,
    pub(crate) level: Option<u8>,
    pub(crate) profile: Profile,
    pub(crate) sample_rate: Option<f64>,
    pub(crate) sample_level: Level,
    pub(crate) sampler: Option<SamplerKind>,
    pub(crate) coherent: bool,
    pub(crate) buffer: Option<BufferConfig>,
    pub(crate) location: bool,
    pub(crate) timestamp: Option<TimestampFormat>,
    pub(crate) first_keys: Vec<String>,
    pub(crate) max_record_bytes: usize,
    pub(crate) pretty: Option<bool>,
    pub(crate) writer: Option<Arc<dyn RecordWriter>>,
    pub(crate) clock: Clock,
    pub(crate) third_party: Vec<String>,
    pub(crate) function_version: bool,
    pub(crate) persistent: Vec<(String, serde_json::Value)>,
    pub(crate) env: EnvSource,
    pub(crate) memory_as_string: Option<bool>,
    pub(crate) text_on_lambda_text: bool,
    pub(crate) directives: Option<String>,
    pub(crate) backtraces: bool,
    pub(crate) direct: bool,
}

impl Default for LoggerBuilder {
    fn default() -> Self {
        Self {
            service: None,
            level: None,
            profile: Profile::default(),
            sample_rate: None,
            sample_level: Level::Debug,
            sampler: None,
            coherent: false,
            buffer: None,
            location: true,
            timestamp: None,
            first_keys: Vec::new(),
            max_record_bytes: 256 * 1024,
            pretty: None,
            writer: None,
            clock: Clock::System,
            third_party: DEFAULT_THIRD_PARTY
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            function_version: false,
            persistent: Vec::new(),
            env: EnvSource::Process,
            memory_as_string: None,
            text_on_lambda_text: false,
            directives: None,
            backtraces: false,
            direct: true,
        }
    }
}

/// Targets whose DEBUG/INFO chatter is capped at WARN unless re-enabled.
const DEFAULT_THIRD_PARTY: &[&str] = &[
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "tokio",
    "tokio_util",
    "mio",
    "tower",
    "reqwest",
    "aws_smithy",
    "aws_sdk",
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "lambda_runtime",
    "lambda_runtime_api_client",
];

impl LoggerBuilder {
    /// The `service` key (else `POWERTOOLS_SERVICE_NAME`, else `service_undefined`).
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.service = Some(name.into());
        self
    }

    /// Minimum level (else `POWERTOOLS_LOG_LEVEL`, else `LOG_LEVEL`, else INFO). Lambda's
    /// `AWS_LAMBDA_LOG_LEVEL` still acts as a floor.
    pub fn level(mut self, level: Level) -> Self {
        self.level = Some(level.rank());
        self
    }

    /// Disables all output (except start-up warnings are also dropped).
    pub fn silent(mut self) -> Self {
        self.level = Some(OFF);
        self
    }

    /// Key names, order and spellings.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Fraction of invocations logged at DEBUG (else `POWERTOOLS_LOGGER_SAMPLE_RATE`).
    pub fn sample_rate(mut self, rate: f64) -> Self {
        self.sample_rate = Some(rate);
        self
    }

    /// Level a sampled invocation runs at (DEBUG by default).
    pub fn sample_level(mut self, level: Level) -> Self {
        self.sample_level = level;
        self
    }

    /// Decide sampling from a hash of the X-Ray trace root, so every function on one trace
    /// agrees (random when there is no trace id).
    pub fn coherent_sampling(mut self, on: bool) -> Self {
        self.coherent = on;
        self
    }

    /// Seeds the sampling random generator (tests, reproducible runs).
    pub fn sampling_seed(mut self, seed: u64) -> Self {
        self.sampler = Some(SamplerKind::Random(seed));
        self
    }

    /// Replaces the random draw with a fixed sequence of decisions, one per invocation,
    /// repeated when exhausted. Meant for tests that replay recorded runs.
    pub fn sampling_sequence(mut self, decisions: impl IntoIterator<Item = bool>) -> Self {
        self.sampler = Some(SamplerKind::Sequence(decisions.into_iter().collect()));
        self
    }

    /// Enables debug buffering.
    pub fn buffer(mut self, config: BufferConfig) -> Self {
        self.buffer = Some(config);
        self
    }

    /// Whether records carry `location` (default on).
    pub fn location(mut self, on: bool) -> Self {
        self.location = on;
        self
    }

    /// Timestamp shape (default RFC 3339 UTC milliseconds; the Python profile defaults to
    /// the Python shape).
    pub fn timestamp_format(mut self, format: TimestampFormat) -> Self {
        self.timestamp = Some(format);
        self
    }

    /// Keys that come first, in this order; the rest keep the profile's order.
    pub fn key_order<I, K>(mut self, first: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<String>,
    {
        self.first_keys = first.into_iter().map(Into::into).collect();
        self
    }

    /// Largest record in bytes; longer string values are truncated to fit (default 256 KiB).
    pub fn max_record_bytes(mut self, bytes: usize) -> Self {
        self.max_record_bytes = bytes.max(256);
        self
    }

    /// Pretty-printed output with a 4-space indent (else `POWERTOOLS_DEV`).
    pub fn pretty(mut self, on: bool) -> Self {
        self.pretty = Some(on);
        self
    }

    /// Where records go (stdout by default).
    pub fn writer(mut self, writer: impl RecordWriter) -> Self {
        self.writer = Some(Arc::new(writer));
        self
    }

    /// Where record times come from.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Lets a target prefix that is capped at WARN by default (hyper, rustls, aws_sdk, …)
    /// through at the normal level.
    pub fn enable_target(mut self, prefix: &str) -> Self {
        self.third_party.retain(|p| p != prefix);
        self
    }

    /// Caps an additional target prefix at WARN.
    pub fn cap_target(mut self, prefix: impl Into<String>) -> Self {
        self.third_party.push(prefix.into());
        self
    }

    /// Adds `function_version` inside invocations (as Java/.NET Powertools do).
    pub fn function_version(mut self, on: bool) -> Self {
        self.function_version = on;
        self
    }

    /// A key printed on every record (persistent key).
    pub fn key(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.persistent.push((name.into(), value.into()));
        self
    }

    /// Prints `function_memory_size` as a string (Powertools under real Lambda) or number.
    pub fn memory_size_as_string(mut self, on: bool) -> Self {
        self.memory_as_string = Some(on);
        self
    }

    /// When `AWS_LAMBDA_LOG_FORMAT=Text`, print Lambda's text shape
    /// `[LEVEL]\t<timestamp>\t<request id>\t<message> k=v…` instead of JSON.
    pub fn text_when_lambda_format_is_text(mut self, on: bool) -> Self {
        self.text_on_lambda_text = on;
        self
    }

    /// Per-target level directives in `RUST_LOG` syntax (`my_app::db=debug,hyper=info,warn`);
    /// replaces the `RUST_LOG` variable. A `target=level` directive sets the level of events
    /// whose target is that module path or below it (the longest match wins, and it lifts
    /// the WARN cap of third-party targets); a bare level is the default level when neither
    /// code nor `POWERTOOLS_LOG_LEVEL`/`LOG_LEVEL` sets one. Lambda's Advanced Logging
    /// Controls level stays a floor that no directive goes below. Span and field filters of
    /// `tracing-subscriber`'s `EnvFilter` are not supported (such directives are reported
    /// and ignored).
    pub fn directives(mut self, directives: impl Into<String>) -> Self {
        self.directives = Some(directives.into());
        self
    }

    /// Captures a backtrace for every record with an error field, and for panics and
    /// handler errors even when `RUST_BACKTRACE` is unset (without this, panics and handler
    /// errors follow `RUST_BACKTRACE` as std does, and other error records carry none).
    /// Frames appear under `error.stack` (`stack_trace.frames` in the Python profile), minus
    /// the frames of this library. Costs a stack walk per error record.
    pub fn capture_backtraces(mut self, on: bool) -> Self {
        self.backtraces = on;
        self
    }

    /// Whether records that allow it are written field by field straight into the line
    /// (the default). `false` sends every record through the general renderer, which
    /// produces the same bytes; differential tests and the fuzz target compare the two.
    #[doc(hidden)]
    pub fn direct_rendering(mut self, on: bool) -> Self {
        self.direct = on;
        self
    }

    /// Reads configuration variables from this map instead of the process environment
    /// (tests; embedding).
    pub fn env_vars<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env = EnvSource::Map(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Builds the layer.
    pub fn build(self) -> crate::PowertoolsLayer {
        crate::layer::PowertoolsLayer::from_config(resolve(self))
    }
}

/// How `sampling_rate` is printed, pre-rendered.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) service: String,
    pub(crate) profile: Profile,
    pub(crate) level: u8,
    pub(crate) floor: u8,
    pub(crate) sample_rate: f64,
    pub(crate) sample_level: u8,
    pub(crate) sampling_rate_json: Option<Vec<u8>>,
    pub(crate) sampler: SamplerKind,
    pub(crate) buffer: Option<BufferConfig>,
    pub(crate) location: bool,
    pub(crate) timestamp: TimestampFormat,
    /// The zone of the local-time timestamp formats.
    pub(crate) zone: Zone,
    pub(crate) first_keys: Vec<String>,
    pub(crate) max_record_bytes: usize,
    pub(crate) pretty: bool,
    pub(crate) writer: Arc<dyn RecordWriter>,
    pub(crate) clock: Clock,
    pub(crate) third_party: Vec<String>,
    pub(crate) function_version: bool,
    pub(crate) persistent: Vec<(String, serde_json::Value)>,
    pub(crate) memory_as_string: bool,
    pub(crate) no_cold_start: bool,
    pub(crate) text_output: bool,
    pub(crate) backtraces: bool,
    /// Whether the direct rendering path may be used (see `direct.rs`).
    pub(crate) direct: bool,
    /// `(target, level rank)` directives, longest target first.
    pub(crate) directives: Vec<(String, u8)>,
    pub(crate) env_trace_fallback: bool,
    pub(crate) env: EnvSource,
    /// (message, variable, value) start-up warnings.
    pub(crate) warnings: Vec<(String, String, String)>,
}

impl std::fmt::Debug for dyn RecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordWriter")
    }
}

fn truthy(s: &str) -> Option<bool> {
    let s = s.trim();
    for t in ["true", "1", "yes", "on", "y"] {
        if s.eq_ignore_ascii_case(t) {
            return Some(true);
        }
    }
    for f in ["false", "0", "no", "off", "n", ""] {
        if s.eq_ignore_ascii_case(f) {
            return Some(false);
        }
    }
    None
}

pub(crate) fn env_flag(
    env: &EnvSource,
    name: &str,
    warnings: &mut Vec<(String, String, String)>,
) -> Option<bool> {
    let raw = env.var(name)?;
    match truthy(&raw) {
        Some(b) => Some(b),
        None => {
            warnings.push((invalid(name), name.to_owned(), raw));
            None
        }
    }
}

fn invalid(name: &str) -> String {
    format!("invalid value for {name}, using the default")
}

fn seed_from_time() -> u64 {
    let t = Clock::System.now_micros() as u64;
    let addr = &t as *const u64 as u64;
    t ^ addr.rotate_left(32) ^ u64::from(std::process::id())
}

pub(crate) fn resolve(b: LoggerBuilder) -> Resolved {
    let env = b.env.clone();
    let mut warnings = Vec::new();
    let var = |name: &str| env.var(name).filter(|v| !v.trim().is_empty());

    let service = b
        .service
        .or_else(|| var("POWERTOOLS_SERVICE_NAME").map(|s| s.trim().to_owned()))
        .unwrap_or_else(|| "service_undefined".to_owned());

    // Advanced Logging Controls: a floor nothing may go below.
    let mut floor = 0u8;
    let mut alc_set = false;
    if let Some(raw) = var("AWS_LAMBDA_LOG_LEVEL") {
        match level::parse_rank(&raw) {
            Some(r) => {
                floor = r;
                alc_set = true;
            }
            None => warnings.push((
                invalid("AWS_LAMBDA_LOG_LEVEL"),
                "AWS_LAMBDA_LOG_LEVEL".into(),
                raw,
            )),
        }
    }
    let mut asked: Option<(u8, &str)> = b.level.map(|l| (l, "code"));
    for name in ["POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"] {
        if asked.is_some() {
            break;
        }
        if let Some(raw) = var(name) {
            match level::parse_rank(&raw) {
                Some(r) => asked = Some((r, name)),
                None => warnings.push((invalid(name), name.to_owned(), raw)),
            }
        }
    }
    let (directives, bare) =
        parse_directives(b.directives.or_else(|| var("RUST_LOG")), &mut warnings);
    if asked.is_none()
        && let Some(r) = bare
    {
        asked = Some((r, "RUST_LOG"));
    }
    let (asked_rank, source) = asked.unwrap_or((Level::Info.rank(), "default"));
    if alc_set && asked_rank < floor && source != "default" {
        warnings.push((
            format!(
                "log level {} from {source} is below the AWS Lambda Advanced Logging Controls level {}; records below {} are dropped",
                level::rank_name(asked_rank),
                level::rank_name(floor),
                level::rank_name(floor),
            ),
            "AWS_LAMBDA_LOG_LEVEL".into(),
            level::rank_name(floor).into(),
        ));
    }
    // With ALC set its level is the level (Powertools does the same); the code and
    // environment settings only apply without it.
    let level = if alc_set { floor } else { asked_rank };

    let mut rate_from_env = None;
    let mut sample_rate = match b.sample_rate {
        Some(r) => Some(r),
        None => {
            var("POWERTOOLS_LOGGER_SAMPLE_RATE").and_then(|raw| match raw.trim().parse::<f64>() {
                Ok(r) if r.is_finite() && r >= 0.0 => {
                    rate_from_env = Some(raw.trim().to_owned());
                    Some(r)
                }
                _ => {
                    warnings.push((
                        invalid("POWERTOOLS_LOGGER_SAMPLE_RATE"),
                        "POWERTOOLS_LOGGER_SAMPLE_RATE".into(),
                        raw,
                    ));
                    None
                }
            })
        }
    };
    if let Some(r) = sample_rate
        && !(r.is_finite() && r >= 0.0)
    {
        warnings.push((
            "invalid sample rate, sampling disabled".into(),
            "sample_rate".into(),
            r.to_string(),
        ));
        sample_rate = None;
    }
    let configured_rate = sample_rate.is_some();
    let rate = sample_rate.unwrap_or(0.0).min(1.0);
    let sampling_rate_json = match b.profile {
        Profile::PowertoolsTs => Some(num(rate)),
        Profile::PowertoolsPython if configured_rate => Some(match &rate_from_env {
            // Python passes the environment string through untouched.
            Some(raw) => {
                let mut v = Vec::new();
                crate::json::string(&mut v, raw);
                v
            }
            None => num(rate),
        }),
        _ if rate > 0.0 => Some(num(rate)),
        _ => None,
    };

    if let Some(buf) = &b.buffer
        && buf.buffer_at.rank() < floor
    {
        warnings.push((
            format!(
                "buffer level {} is below the AWS Lambda Advanced Logging Controls level {}; buffered records below it are dropped",
                level::rank_name(buf.buffer_at.rank()),
                level::rank_name(floor)
            ),
            "AWS_LAMBDA_LOG_LEVEL".into(),
            level::rank_name(floor).into(),
        ));
    }

    let pretty = match b.pretty {
        Some(p) => p,
        None => env_flag(&env, "POWERTOOLS_DEV", &mut warnings).unwrap_or(false),
    };
    let mut text_output = false;
    if let Some(raw) = var("AWS_LAMBDA_LOG_FORMAT") {
        if raw.trim().eq_ignore_ascii_case("text") {
            text_output = b.text_on_lambda_text;
        } else if !raw.trim().eq_ignore_ascii_case("json") {
            warnings.push((
                invalid("AWS_LAMBDA_LOG_FORMAT"),
                "AWS_LAMBDA_LOG_FORMAT".into(),
                raw,
            ));
        }
    }
    // Accepted so that a copied Powertools environment is not reported as invalid.
    let _ = var("POWERTOOLS_LOG_DEDUPLICATION_DISABLED");
    if let Some(raw) = var("POWERTOOLS_LOGGER_LOG_EVENT") {
        // Read again by the Lambda integration; checked here so a bad value is reported once.
        env_flag(
            &EnvSource::Map(HashMap::from([(
                "POWERTOOLS_LOGGER_LOG_EVENT".to_owned(),
                raw,
            )])),
            "POWERTOOLS_LOGGER_LOG_EVENT",
            &mut warnings,
        );
    }
    let no_cold_start = var("AWS_LAMBDA_INITIALIZATION_TYPE").is_some_and(|t| {
        let t = t.trim();
        t.eq_ignore_ascii_case("provisioned-concurrency") || t.eq_ignore_ascii_case("snap-start")
    });
    let env_trace_fallback =
        matches!(env, EnvSource::Process) && var("AWS_LAMBDA_FUNCTION_NAME").is_some();

    let timestamp = b.timestamp.unwrap_or(match b.profile {
        Profile::PowertoolsPython => TimestampFormat::Python,
        _ => TimestampFormat::Rfc3339Millis,
    });
    // Only the local-time formats look at the zone, so other setups never read zoneinfo.
    let zone = if matches!(
        timestamp,
        TimestampFormat::Rfc3339MillisLocal | TimestampFormat::Python
    ) {
        let tz = var("TZ");
        Zone::resolve(tz.as_deref()).unwrap_or_else(|utc| {
            warnings.push((
                "TZ names no known time zone; local-time timestamps use UTC".to_owned(),
                "TZ".to_owned(),
                tz.unwrap_or_default(),
            ));
            utc
        })
    } else {
        Zone::utc()
    };
    let sampler = match b.sampler {
        Some(s) => s,
        None if b.coherent => SamplerKind::Coherent(seed_from_time()),
        None => SamplerKind::Random(seed_from_time()),
    };
    let sampler = match (sampler, b.coherent) {
        (SamplerKind::Random(seed), true) => SamplerKind::Coherent(seed),
        (s, _) => s,
    };

    Resolved {
        service,
        profile: b.profile,
        level,
        floor,
        sample_rate: rate,
        sample_level: b.sample_level.rank().max(floor),
        sampling_rate_json,
        sampler,
        buffer: b.buffer,
        location: b.location && b.profile != Profile::PowertoolsTs,
        timestamp,
        zone,
        first_keys: b.first_keys,
        max_record_bytes: b.max_record_bytes,
        pretty,
        writer: b.writer.unwrap_or_else(|| Arc::new(StdoutWriter)),
        clock: b.clock,
        third_party: b.third_party,
        function_version: b.function_version,
        persistent: b.persistent,
        memory_as_string: b
            .memory_as_string
            .unwrap_or(b.profile == Profile::PowertoolsPython),
        no_cold_start,
        text_output,
        backtraces: b.backtraces,
        direct: b.direct,
        directives,
        env_trace_fallback,
        env,
        warnings,
    }
}

/// Parses `RUST_LOG`-style directives into `(target, rank)` pairs (longest target first)
/// and the bare default level, reporting unsupported or malformed parts.
fn parse_directives(
    raw: Option<String>,
    warnings: &mut Vec<(String, String, String)>,
) -> (Vec<(String, u8)>, Option<u8>) {
    let mut out: Vec<(String, u8)> = Vec::new();
    let mut bare = None;
    for part in raw.as_deref().unwrap_or("").split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let parsed = match part.split_once('=') {
            Some((target, level)) => {
                let target = target.trim();
                let plain = !target.is_empty()
                    && target
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':' || b == b'-');
                match (plain, level::parse_rank(level)) {
                    (true, Some(r)) => {
                        out.retain(|(t, _)| t != target);
                        out.push((target.to_owned(), r));
                        true
                    }
                    _ => false,
                }
            }
            None => match level::parse_rank(part) {
                Some(r) => {
                    bare = Some(r);
                    true
                }
                None => false,
            },
        };
        if !parsed {
            warnings.push((
                "unsupported or invalid RUST_LOG directive, ignored".into(),
                "RUST_LOG".into(),
                part.to_owned(),
            ));
        }
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.0.len()));
    (out, bare)
}

fn num(r: f64) -> Vec<u8> {
    let mut v = Vec::new();
    if r.fract() == 0.0 && r.abs() < 1e15 {
        crate::json::int(&mut v, r as i64);
    } else {
        crate::json::float(&mut v, r);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_env(vars: &[(&str, &str)]) -> Resolved {
        resolve(LoggerBuilder::default().env_vars(vars.iter().map(|&(k, v)| (k, v))))
    }

    #[test]
    fn level_precedence_alc_over_code_over_env() {
        assert_eq!(with_env(&[]).level, 2);
        assert_eq!(with_env(&[("LOG_LEVEL", "error")]).level, 4);
        assert_eq!(
            with_env(&[("POWERTOOLS_LOG_LEVEL", "WARNING"), ("LOG_LEVEL", "DEBUG")]).level,
            3
        );
        let r = with_env(&[
            ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
            ("POWERTOOLS_LOG_LEVEL", "DEBUG"),
        ]);
        assert_eq!((r.level, r.floor), (3, 3));
        assert_eq!(r.warnings.len(), 1);
        assert!(
            r.warnings[0]
                .0
                .contains("below the AWS Lambda Advanced Logging Controls")
        );
        let code = resolve(
            LoggerBuilder::default()
                .level(Level::Debug)
                .env_vars([("POWERTOOLS_LOG_LEVEL", "ERROR")]),
        );
        assert_eq!(code.level, 1);
        assert_eq!(with_env(&[("AWS_LAMBDA_LOG_LEVEL", "TRACE")]).level, 0);
        let r = with_env(&[
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
            ("POWERTOOLS_LOG_LEVEL", "ERROR"),
        ]);
        assert_eq!((r.level, r.warnings.len()), (1, 0));
        assert_eq!(with_env(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]).level, 5);
        assert_eq!(with_env(&[("AWS_LAMBDA_LOG_LEVEL", "warn")]).level, 3);
    }

    #[test]
    fn directives_parse_and_bare_level_ranks_below_explicit_settings() {
        let r = with_env(&[(
            "RUST_LOG",
            "app::db=debug, hyper=info,warn,x[span]=trace,bogus",
        )]);
        assert_eq!(
            r.directives,
            [("app::db".to_owned(), 1), ("hyper".to_owned(), 2)]
        );
        assert_eq!(
            r.level, 3,
            "bare RUST_LOG level applies when nothing else is set"
        );
        let bad: Vec<&str> = r.warnings.iter().map(|w| w.2.as_str()).collect();
        assert_eq!(bad, ["x[span]=trace", "bogus"]);
        let r = with_env(&[("RUST_LOG", "debug"), ("LOG_LEVEL", "error")]);
        assert_eq!(r.level, 4);
        let r = resolve(
            LoggerBuilder::default()
                .directives("a=trace")
                .env_vars([("RUST_LOG", "b=error")]),
        );
        assert_eq!(r.directives, [("a".to_owned(), 0)]);
        let r = with_env(&[("RUST_LOG", "debug"), ("AWS_LAMBDA_LOG_LEVEL", "ERROR")]);
        assert_eq!((r.level, r.floor), (4, 4), "ALC beats RUST_LOG");
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn bad_values_warn_once_and_fall_back() {
        let r = with_env(&[
            ("POWERTOOLS_LOG_LEVEL", "bogus"),
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "abc"),
            ("POWERTOOLS_DEV", "maybe"),
            ("AWS_LAMBDA_LOG_FORMAT", "xml"),
        ]);
        assert_eq!(r.level, 2);
        assert_eq!(r.sample_rate, 0.0);
        assert!(!r.pretty);
        let vars: Vec<&str> = r.warnings.iter().map(|w| w.1.as_str()).collect();
        assert_eq!(
            vars,
            [
                "POWERTOOLS_LOG_LEVEL",
                "POWERTOOLS_LOGGER_SAMPLE_RATE",
                "POWERTOOLS_DEV",
                "AWS_LAMBDA_LOG_FORMAT"
            ]
        );
    }

    #[test]
    fn sampling_rate_rendering_per_profile() {
        let r = with_env(&[("POWERTOOLS_LOGGER_SAMPLE_RATE", "0.5")]);
        assert_eq!(r.sampling_rate_json.as_deref(), Some(&b"0.5"[..]));
        let r = resolve(
            LoggerBuilder::default()
                .profile(Profile::PowertoolsPython)
                .env_vars([("POWERTOOLS_LOGGER_SAMPLE_RATE", "0")]),
        );
        assert_eq!(r.sampling_rate_json.as_deref(), Some(&b"\"0\""[..]));
        let r = resolve(
            LoggerBuilder::default()
                .profile(Profile::PowertoolsTs)
                .env_vars([("X", "")]),
        );
        assert_eq!(r.sampling_rate_json.as_deref(), Some(&b"0"[..]));
        assert!(
            with_env(&[("POWERTOOLS_LOGGER_SAMPLE_RATE", "0")])
                .sampling_rate_json
                .is_none()
        );
        assert_eq!(
            with_env(&[("POWERTOOLS_LOGGER_SAMPLE_RATE", "7")]).sample_rate,
            1.0
        );
    }
}
