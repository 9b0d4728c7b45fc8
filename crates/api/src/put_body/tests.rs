//! The hand decoder against serde_json on the same bodies: same accept/reject, same values.

use super::*;

fn serde(body: &[u8]) -> Result<PutLogEventsRequest, serde_json::Error> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body)
}

/// Both decoders agree: both refuse, or both accept with equal requests.
fn agree(body: &[u8]) {
    let ours = decode_put_log_events(body);
    if std::str::from_utf8(body).is_err() {
        // serde skips unknown members without checking their UTF-8; the body must be text.
        assert!(ours.is_err(), "{:?}", String::from_utf8_lossy(body));
        return;
    }
    let theirs = serde(body);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "values differ for {:?}",
            String::from_utf8_lossy(body)
        ),
        (Err(e), Err(_)) => {
            assert_eq!(e.code, ErrorCode::Serialization);
            assert!(e.message.contains("could not be read"), "{}", e.message);
        }
        _ => panic!(
            "decoders disagree on {:?}: ours {:?}, serde {:?}",
            String::from_utf8_lossy(body),
            ours.map(|_| ()),
            theirs.map(|_| ())
        ),
    }
}

#[test]
fn hand_written_cases_match_serde() {
    let cases: &[&str] = &[
        "",
        "  \n",
        "{}",
        " { } ",
        r#"{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"m"}]}"#,
        r#"{"logGroupName":null,"logStreamName":null,"logEvents":null,"sequenceToken":null}"#,
        r#"{"logEvents":[]}"#,
        r#"{"logEvents":[ ]}"#,
        r#"{"logEvents":[{}]}"#,
        r#"{"logEvents":[{"timestamp":null,"message":null}]}"#,
        r#"{"logEvents":[{"message":"a\"b\\c\/d\b\f\n\r\t"}]}"#,
        r#"{"logEvents":[{"message":"\u00e9\u4e2d\ud83d\ude00 é中😀"}]}"#,
        r#"{"logEvents":[{"message":"\ud83d"}]}"#,
        r#"{"logEvents":[{"message":"\ude00"}]}"#,
        r#"{"logEvents":[{"message":"\ud83d\u0041"}]}"#,
        r#"{"logEvents":[{"message":"\u12"}]}"#,
        r#"{"logEvents":[{"message":"\x"}]}"#,
        "{\"logEvents\":[{\"message\":\"tab\there\"}]}",
        r#"{"logEvents":[{"message":"unterminated}]}"#,
        r#"{"logEvents":[{"message":"esc\"unterminated}]}"#,
        r#"{"logEvents":[{"timestamp":-5}]}"#,
        r#"{"logEvents":[{"timestamp":-0}]}"#,
        r#"{"logEvents":[{"timestamp":1.5}]}"#,
        r#"{"logEvents":[{"timestamp":1e3}]}"#,
        r#"{"logEvents":[{"timestamp":01}]}"#,
        r#"{"logEvents":[{"timestamp":9223372036854775807}]}"#,
        r#"{"logEvents":[{"timestamp":9223372036854775808}]}"#,
        r#"{"logEvents":[{"timestamp":-9223372036854775808}]}"#,
        r#"{"logEvents":[{"timestamp":"1"}]}"#,
        r#"{"logEvents":[{"timestamp":true}]}"#,
        r#"{"logEvents":[{"message":5}]}"#,
        r#"{"logEvents":[null]}"#,
        r#"{"logEvents":[1]}"#,
        r#"{"logEvents":{}}"#,
        r#"{"logEvents":[{"timestamp":1},]}"#,
        r#"{"logEvents":[{"timestamp":1,}]}"#,
        r#"{"logGroupName":"g","logGroupName":"h"}"#,
        r#"{"logEvents":[{"timestamp":1,"timestamp":2}]}"#,
        r#"{"logGroupName":5}"#,
        r#"{"logGroupName":"g"} x"#,
        r#"{"logGroupName":"g"}{}"#,
        r#"{"unknown":{"a":[1,2.5e-3,true,false,null,"x\n",{"b":[]}]},"logGroupName":"g"}"#,
        r#"{"unknown":[1 2]}"#,
        r#"{"unknown":tru}"#,
        r#"{"unknown":-}"#,
        r#"{"unknown":1.}"#,
        r#"{"unknown":"\q"}"#,
        r#"{"log\u0047roupName":"escaped key"}"#,
        r#"{"logGroupName" "g"}"#,
        r#"{logGroupName:"g"}"#,
        r#"{"logGroupName":"g""#,
        r#"{"logGroupName":"g","#,
        "[]",
        "null",
        "\"s\"",
        "{\"logGroupName\":\"\u{7f}\"}",
    ];
    for c in cases {
        agree(c.as_bytes());
    }
    agree(b"{\"logGroupName\":\"\xff\"}");
    agree(b"{\"logEvents\":[{\"message\":\"ok\xc3\"}]}");
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let deep = format!("{{\"x\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    let err = decode_put_log_events(deep.as_bytes()).map(|_| ());
    assert!(err.is_err());
    let shallow = format!("{{\"x\":{}1{}}}", "[".repeat(50), "]".repeat(50));
    agree(shallow.as_bytes());
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_message(rng: &mut Rng) -> String {
    const ALPHABET: &[&str] = &[
        "a",
        "Z",
        "0",
        " ",
        "\"",
        "\\",
        "/",
        "\n",
        "\t",
        "\u{1}",
        "\u{1f}",
        "é",
        "中",
        "😀",
        "{\"k\":\"v\"}",
        "\u{7f}",
        "\u{2028}",
    ];
    let len = rng.below(40);
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len())])
        .collect()
}

#[test]
fn random_bodies_and_their_mutations_match_serde() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..400 {
        let events: Vec<serde_json::Value> = (0..rng.below(6))
            .map(|_| {
                let mut e = serde_json::Map::new();
                if rng.below(8) != 0 {
                    e.insert("message".into(), random_message(&mut rng).into());
                }
                if rng.below(8) != 0 {
                    e.insert(
                        "timestamp".into(),
                        (rng.next() as i64 >> rng.below(64)).into(),
                    );
                }
                if rng.below(4) == 0 {
                    e.insert(random_message(&mut rng), random_message(&mut rng).into());
                }
                serde_json::Value::Object(e)
            })
            .collect();
        let body = serde_json::json!({
            "logGroupName": random_message(&mut rng),
            "logStreamName": random_message(&mut rng),
            "logEvents": events,
        });
        let mut bytes = if rng.below(2) == 0 {
            serde_json::to_vec(&body)
        } else {
            serde_json::to_vec_pretty(&body)
        }
        .unwrap();
        agree(&bytes);
        // Mutations: most make the body invalid; both decoders must refuse the same ones.
        for _ in 0..8 {
            if bytes.is_empty() {
                break;
            }
            let i = rng.below(bytes.len());
            const BYTES: &[u8] = b"\"\\{}[]:,0-.eu \x01\xc3\xa9nt";
            match rng.below(3) {
                0 => bytes[i] = BYTES[rng.below(BYTES.len())],
                1 => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, BYTES[rng.below(BYTES.len())]),
            }
            agree(&bytes);
        }
    }
}

#[test]
fn long_messages_cross_the_eight_byte_steps() {
    for len in 0..40 {
        for special in ["\"", "\\", "\n", "\u{1}", "é"] {
            let msg = format!("{}{special}{}", "x".repeat(len), "y".repeat(len % 9));
            let body = serde_json::json!({"logEvents": [{"timestamp": 1, "message": msg}]});
            let req = decode_put_log_events(&serde_json::to_vec(&body).unwrap()).unwrap();
            assert_eq!(
                req.log_events.unwrap()[0].message.as_deref(),
                Some(msg.as_str())
            );
        }
    }
}

#[test]
fn errors_name_the_byte() {
    let e = decode_put_log_events(br#"{"logEvents":[{"timestamp":1.5}]}"#).unwrap_err();
    assert!(e.message.contains("at byte 27"), "{}", e.message);
    assert!(e.message.contains("timestamp 1.5"), "{}", e.message);
}
