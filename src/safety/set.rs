//! Labelled safety messages: `tier<TAB>category<TAB>lang<TAB>split<TAB>message`
//! lines after a header, as tests/fixtures/safety/set/messages.tsv. The
//! same format holds the examples the learned signal compares with
//! (`knowledge/safety-examples.tsv`, editable like articles).

use crate::lang::Lang;

/// What a message calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Tier {
    /// Call 911 now.
    #[serde(rename = "911")]
    Emergency,
    /// The 988 crisis line (and 911 when in danger).
    #[serde(rename = "988")]
    Crisis,
    /// The nurse line or urgent care today; not 911.
    #[serde(rename = "urgent")]
    Urgent,
    /// Nothing urgent.
    #[serde(rename = "none")]
    None,
}

impl Tier {
    pub fn parse(s: &str) -> Option<Tier> {
        Some(match s {
            "911" => Tier::Emergency,
            "988" => Tier::Crisis,
            "urgent" => Tier::Urgent,
            "none" => Tier::None,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Emergency => "911",
            Tier::Crisis => "988",
            Tier::Urgent => "urgent",
            Tier::None => "none",
        }
    }
}

/// One labelled message.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub tier: Tier,
    pub category: String,
    pub lang: Lang,
    /// In the half that may be tuned on (`tune`), or the half kept back
    /// for reporting (`holdout`).
    pub tune: bool,
    pub text: String,
}

/// Most lines read from one file.
pub const MAX_LINES: usize = 50_000;

/// Parses a labelled file; errors name the 1-based line.
pub fn parse(text: &str) -> Result<Vec<Labelled>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if n == 1 && line.starts_with("tier\t") || line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if out.len() >= MAX_LINES {
            return Err((n, format!("more than {MAX_LINES} messages")));
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [tier, category, lang, split, message] = cols[..] else {
            return Err((
                n,
                "expected 5 tab-separated columns: tier, category, lang, split, message".into(),
            ));
        };
        let tier = Tier::parse(tier).ok_or_else(|| {
            (
                n,
                format!("unknown tier {tier:?} (911, 988, urgent or none)"),
            )
        })?;
        let lang = lang
            .parse()
            .map_err(|e: crate::lang::UnknownLang| (n, e.to_string()))?;
        let tune = match split {
            "tune" => true,
            "holdout" => false,
            other => return Err((n, format!("unknown split {other:?} (tune or holdout)"))),
        };
        if message.trim().is_empty() {
            return Err((n, "empty message".into()));
        }
        out.push(Labelled {
            tier,
            category: category.to_owned(),
            lang,
            tune,
            text: message.to_owned(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_set_parses_and_bad_lines_are_named() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/safety/set/messages.tsv");
        let set = parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(set.len() > 1500);
        assert!(
            set.iter()
                .any(|l| l.tier == Tier::Crisis && l.lang == Lang::Es)
        );
        assert_eq!(
            parse("tier\tc\tl\ts\tm\n911\tx\ten\ttune").unwrap_err().0,
            2
        );
        assert!(
            parse("999\tx\ten\ttune\thi")
                .unwrap_err()
                .1
                .contains("unknown tier")
        );
        assert!(parse("911\tx\tfr\ttune\thi").is_err());
        assert!(
            parse("911\tx\ten\tsome\thi")
                .unwrap_err()
                .1
                .contains("split")
        );
    }
}
