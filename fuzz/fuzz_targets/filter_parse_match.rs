//! Parse + match + extract on arbitrary input: first line is the pattern, the rest are
//! messages. Also checks that a parsed pattern prints back to text that parses to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookout_filter::Pattern;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (pattern, messages) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(p) = Pattern::parse(pattern) else { return };
    let printed = p.ast().to_string();
    if printed.chars().count() <= 1024 {
        let again = lookout_filter::parse(&printed)
            .unwrap_or_else(|e| panic!("printed pattern {printed:?} does not parse: {e}"));
        assert_eq!(again.without_spans(), p.ast().without_spans(), "printed as {printed:?}");
    }
    let outputs: &[&str] = match p.ast() {
        lookout_filter::Ast::Json(_) => &["$.a", "$.b[0]", "1"],
        lookout_filter::Ast::Space(_) => &["$1", "$a", "2.5"],
        _ => &[],
    };
    let p = p.with_outputs(outputs).unwrap_or_else(|e| panic!("outputs refused: {e}"));
    for message in std::iter::once(messages).chain(messages.split('\n')) {
        let matched = p.matches(message);
        let extracted = p.extract(message);
        assert_eq!(matched, extracted.is_some(), "matches and extract disagree on {message:?}");
    }
});
