//! Logs Insights parser on arbitrary input: parse must not panic; an accepted query must
//! print back to text that parses to the same tree (spans aside), and error locations must
//! be computable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookout_insights::{parse, MAX_QUERY_CHARS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let q = match parse(text) {
        Ok(q) => q,
        Err(e) => {
            let ce = e.compile_error(text);
            assert!(ce.start_char_offset <= ce.end_char_offset, "{e:?}");
            assert!(ce.end_char_offset <= text.chars().count(), "{e:?}");
            return;
        }
    };
    let _ = format!("{q:#}");
    let printed = q.to_string();
    if printed.chars().count() > MAX_QUERY_CHARS {
        return;
    }
    let again = parse(&printed)
        .unwrap_or_else(|e| panic!("printed query {printed:?} does not parse: {e}"));
    assert_eq!(again.without_spans(), q.without_spans(), "printed as {printed:?}");
    assert_eq!(again.to_string(), printed, "printing is not stable");
});
