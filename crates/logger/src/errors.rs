//! Error values in records: the `error` object (default), Python's
//! `exception`/`exception_name`/`stack_trace`, TypeScript's `error` with a `cause` chain, and
//! Lambda's `errorType`/`errorMessage`/`stackTrace`.

use std::error::Error as StdError;

use crate::config::Profile;
use crate::json;
use crate::record::{Part, Scratch};

/// One backtrace frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) function: String,
    pub(crate) file: String,
    pub(crate) line: u32,
}

/// An error flattened for rendering.
#[derive(Clone, Debug, Default)]
pub(crate) struct ErrorInfo {
    pub(crate) name: String,
    pub(crate) module: String,
    pub(crate) message: String,
    /// `(name, message)` following `source()`.
    pub(crate) causes: Vec<(String, String)>,
    pub(crate) frames: Vec<Frame>,
}

/// The last path segment of a type name without generics; `None` for trait objects, whose
/// name says nothing about the actual error.
#[cfg_attr(not(feature = "lambda"), allow(dead_code))]
pub(crate) fn short_type_name(full: &str) -> Option<(&str, &str)> {
    if full.contains("dyn ") {
        return None;
    }
    let base = full.trim_start_matches('&');
    let base = base.split('<').next().unwrap_or(base);
    match base.rsplit_once("::") {
        Some((module, name)) => Some((module, name)),
        None => Some(("", base)),
    }
}

/// Best effort name of an error known only as `dyn Error`: well-known std types by
/// downcast, else the leading type-like identifier of its `Debug` output.
pub(crate) fn dyn_name(err: &(dyn StdError + 'static)) -> String {
    if err.is::<std::io::Error>() {
        return "io::Error".into();
    }
    if err.is::<std::fmt::Error>() {
        return "fmt::Error".into();
    }
    let debug = format!("{err:?}");
    let ident: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let rest = &debug[ident.len()..];
    let looks_like_type = ident.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && (rest.is_empty()
            || rest.starts_with(' ')
            || rest.starts_with('(')
            || rest.starts_with('{'));
    if looks_like_type {
        ident
    } else {
        "Error".into()
    }
}

impl ErrorInfo {
    pub(crate) fn from_error(err: &(dyn StdError + 'static), name: Option<&str>) -> Self {
        let mut causes = Vec::new();
        let mut cur = err.source();
        while let Some(c) = cur {
            if causes.len() >= 32 {
                break;
            }
            causes.push((dyn_name(c), c.to_string()));
            cur = c.source();
        }
        Self {
            name: name.map_or_else(|| dyn_name(err), str::to_owned),
            module: String::new(),
            message: err.to_string(),
            causes,
            frames: Vec::new(),
        }
    }

    pub(crate) fn from_text(name: &str, message: &str) -> Self {
        Self {
            name: name.to_owned(),
            message: message.to_owned(),
            ..Self::default()
        }
    }

    /// Multi-line text in the spirit of Python's formatted traceback.
    fn text(&self) -> String {
        let mut s = format!("{}: {}", self.name, self.message);
        for (n, m) in &self.causes {
            s.push_str(&format!("\ncaused by: {n}: {m}"));
        }
        if !self.frames.is_empty() {
            s.push_str("\nstack backtrace:");
            for f in &self.frames {
                if f.file.is_empty() {
                    s.push_str(&format!("\n  {}", f.function));
                } else {
                    s.push_str(&format!("\n  {} at {}:{}", f.function, f.file, f.line));
                }
            }
        }
        s
    }
}

/// The text of a backtrace taken now: always when `force`, else when `RUST_BACKTRACE` /
/// `RUST_LIB_BACKTRACE` enable it (as std does for panics). Empty when not captured.
pub(crate) fn capture_text(force: bool) -> String {
    let bt = if force {
        std::backtrace::Backtrace::force_capture()
    } else {
        std::backtrace::Backtrace::capture()
    };
    match bt.status() {
        std::backtrace::BacktraceStatus::Captured => bt.to_string(),
        _ => String::new(),
    }
}

/// Frames of the capture machinery and of this library, which say nothing about the error.
fn is_noise(function: &str) -> bool {
    const PREFIXES: [&str; 7] = [
        "std::backtrace",
        "std::panicking",
        "core::panicking",
        "std::panic::",
        "lookout_logger::",
        "<lookout_logger::",
        "tracing_core::",
    ];
    PREFIXES.iter().any(|p| function.starts_with(p))
        || function.starts_with("<tracing_subscriber::")
        || function.starts_with("tracing_subscriber::")
        || function == "rust_begin_unwind"
        || function.starts_with("__rust")
}

/// Parses std's `Backtrace` display text into frames, without the frames of the capture
/// machinery and of this library.
pub(crate) fn parse_backtrace(text: &str) -> Vec<Frame> {
    let mut frames = parse_all(text);
    frames.retain(|f| !is_noise(&f.function));
    frames
}

fn parse_all(text: &str) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(at) = t.strip_prefix("at ") {
            if let Some(f) = frames.last_mut() {
                let mut parts = at.rsplitn(3, ':');
                let _col = parts.next();
                let line_no = parts.next().and_then(|l| l.parse().ok());
                match (line_no, parts.next()) {
                    (Some(l), Some(file)) => {
                        f.file = file.to_owned();
                        f.line = l;
                    }
                    _ => f.file = at.to_owned(),
                }
            }
        } else if let Some((idx, func)) = t.split_once(": ")
            && !idx.is_empty()
            && idx.bytes().all(|b| b.is_ascii_digit())
        {
            frames.push(Frame {
                function: func.trim().to_owned(),
                ..Frame::default()
            });
        }
        if frames.len() >= 256 {
            break;
        }
    }
    frames
}

fn location(o: &mut Vec<u8>, file: Option<&str>, line: Option<u32>) {
    o.push(b'"');
    json::escape_into(o, file.unwrap_or("unknown"));
    o.push(b':');
    json::int(o, line.unwrap_or(0));
    o.push(b'"');
}

/// Writes the error keys of `profile` into the record's tail.
pub(crate) fn render(
    s: &mut Scratch,
    profile: Profile,
    e: &ErrorInfo,
    file: Option<&str>,
    line: Option<u32>,
) {
    match profile {
        Profile::Powertools => s.add(Part::Tail, "error", |o| {
            o.extend_from_slice(b"{\"name\":");
            json::string(o, &e.name);
            o.extend_from_slice(b",\"message\":");
            json::string(o, &e.message);
            if !e.causes.is_empty() {
                o.extend_from_slice(b",\"causes\":[");
                for (i, (n, m)) in e.causes.iter().enumerate() {
                    if i > 0 {
                        o.push(b',');
                    }
                    o.extend_from_slice(b"{\"name\":");
                    json::string(o, n);
                    o.extend_from_slice(b",\"message\":");
                    json::string(o, m);
                    o.push(b'}');
                }
                o.push(b']');
            }
            if !e.frames.is_empty() {
                o.extend_from_slice(b",\"stack\":[");
                for (i, f) in e.frames.iter().enumerate() {
                    if i > 0 {
                        o.push(b',');
                    }
                    if f.file.is_empty() {
                        json::string(o, &f.function);
                    } else {
                        json::string(o, &format!("{} at {}:{}", f.function, f.file, f.line));
                    }
                }
                o.push(b']');
            }
            o.extend_from_slice(b",\"location\":");
            location(o, file, line);
            o.push(b'}');
        }),
        Profile::PowertoolsPython => {
            let text = e.text();
            s.add(Part::Tail, "exception", |o| json::string(o, &text));
            s.add(Part::Tail, "exception_name", |o| json::string(o, &e.name));
            s.add(Part::Tail, "stack_trace", |o| {
                o.extend_from_slice(b"{\"type\":");
                json::string(o, &e.name);
                o.extend_from_slice(b",\"value\":");
                json::string(o, &e.message);
                o.extend_from_slice(b",\"module\":");
                json::string(o, &e.module);
                o.extend_from_slice(b",\"frames\":[");
                for (i, f) in e.frames.iter().enumerate() {
                    if i > 0 {
                        o.push(b',');
                    }
                    o.extend_from_slice(b"{\"file\":");
                    json::string(o, &f.file);
                    o.extend_from_slice(b",\"line\":");
                    json::int(o, f.line);
                    o.extend_from_slice(b",\"function\":");
                    json::string(o, &f.function);
                    o.extend_from_slice(b",\"statement\":\"\"}");
                }
                o.extend_from_slice(b"]}");
            });
        }
        Profile::PowertoolsTs => s.add(Part::Tail, "error", |o| {
            let stack = {
                let mut st = format!("{}: {}", e.name, e.message);
                for f in &e.frames {
                    st.push_str(&format!("\n    at {} ({}:{})", f.function, f.file, f.line));
                }
                st
            };
            o.extend_from_slice(b"{\"name\":");
            json::string(o, &e.name);
            o.extend_from_slice(b",\"location\":");
            location(o, file, line);
            o.extend_from_slice(b",\"message\":");
            json::string(o, &e.message);
            o.extend_from_slice(b",\"stack\":");
            json::string(o, &stack);
            for (n, m) in &e.causes {
                o.extend_from_slice(b",\"cause\":{\"name\":");
                json::string(o, n);
                o.extend_from_slice(b",\"message\":");
                json::string(o, m);
            }
            for _ in &e.causes {
                o.push(b'}');
            }
            o.push(b'}');
        }),
        Profile::Lambda => {
            s.add(Part::Tail, "errorType", |o| json::string(o, &e.name));
            s.add(Part::Tail, "errorMessage", |o| json::string(o, &e.message));
            s.add(Part::Tail, "stackTrace", |o| {
                o.push(b'[');
                for (i, f) in e.frames.iter().enumerate() {
                    if i > 0 {
                        o.push(b',');
                    }
                    json::string(o, &format!("{} at {}:{}", f.function, f.file, f.line));
                }
                o.push(b']');
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct PaymentDeclined {
        source: std::num::ParseIntError,
    }
    impl std::fmt::Display for PaymentDeclined {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("card declined")
        }
    }
    impl StdError for PaymentDeclined {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn names_and_causes_from_dyn_error() {
        let source = "x".parse::<u32>().unwrap_err();
        let e = PaymentDeclined { source };
        let info = ErrorInfo::from_error(&e, None);
        assert_eq!(info.name, "PaymentDeclined");
        assert_eq!(info.message, "card declined");
        assert_eq!(
            info.causes,
            [(
                "ParseIntError".to_owned(),
                "invalid digit found in string".to_owned()
            )]
        );
        let boxed: Box<dyn StdError + Send + Sync> = "payment declined".into();
        assert_eq!(dyn_name(&*boxed), "Error");
        let io = std::io::Error::other("disk");
        assert_eq!(dyn_name(&io), "io::Error");
    }

    #[test]
    fn short_type_names() {
        assert_eq!(
            short_type_name("my_fn::errors::PaymentDeclined"),
            Some(("my_fn::errors", "PaymentDeclined"))
        );
        assert_eq!(
            short_type_name("alloc::boxed::Box<dyn core::error::Error + Send + Sync>"),
            None
        );
        assert_eq!(
            short_type_name("core::result::Result<u8, x::E>"),
            Some(("core::result", "Result"))
        );
    }

    #[test]
    fn parses_std_backtrace_text() {
        let text = "   0: app::charge\n             at ./src/main.rs:12:5\n   1: std::rt::lang_start\n   2: main\n             at /rustc/abc/library/std/src/rt.rs:199:17\n";
        let frames = parse_backtrace(text);
        assert_eq!(frames.len(), 3);
        let noisy = format!(
            "   0: std::backtrace::Backtrace::force_capture\n   1: lookout_logger::errors::capture_frames\n{text}"
        );
        assert_eq!(parse_backtrace(&noisy), frames);
        assert_eq!(
            frames[0],
            Frame {
                function: "app::charge".into(),
                file: "./src/main.rs".into(),
                line: 12
            }
        );
        assert_eq!(frames[1].file, "");
        assert_eq!(frames[2].line, 199);
        assert!(parse_backtrace("disabled backtrace").is_empty());
    }
}
