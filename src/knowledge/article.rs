//! The parsed, validated shape of one knowledge article and its id newtype.

use std::fmt;
use std::path::PathBuf;

use crate::lang::Lang;

/// Longest accepted article id, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// The stable id of an article: ASCII letters, digits, `-`, `_` and `.`, at most
/// [`MAX_ID_LEN`] bytes. Parsed once at the edge; never a raw `String` elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ArticleId(String);

/// Why a string is not an [`ArticleId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadArticleId {
    #[error("article id is empty")]
    Empty,
    #[error("article id is longer than {MAX_ID_LEN} bytes")]
    TooLong,
    #[error("article id {0:?} may only contain ASCII letters, digits, '-', '_' and '.'")]
    BadChar(String),
}

impl ArticleId {
    /// Parses and validates an id.
    pub fn parse(s: &str) -> Result<ArticleId, BadArticleId> {
        if s.is_empty() {
            return Err(BadArticleId::Empty);
        }
        if s.len() > MAX_ID_LEN {
            return Err(BadArticleId::TooLong);
        }
        let ok = s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok || s.starts_with('.') {
            return Err(BadArticleId::BadChar(s.to_owned()));
        }
        Ok(ArticleId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id made from a title or a label: lower-case ASCII letters and
    /// digits joined by `-`, at most 60 characters; `fallback` when nothing
    /// of it is left ("¿¿??").
    pub fn slug(text: &str, fallback: &str) -> ArticleId {
        let dashed: String = text
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let joined = dashed
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let cut: String = joined.chars().take(60).collect();
        let cut = cut.trim_end_matches('-');
        ArticleId::parse(cut).unwrap_or_else(|_| ArticleId(fallback.to_owned()))
    }
}

impl fmt::Display for ArticleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ArticleId {
    type Err = BadArticleId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArticleId::parse(s)
    }
}

/// A calendar date from `review_by`, compared as (year, month, day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReviewDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl ReviewDate {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<ReviewDate> {
        let mut it = s.trim().splitn(3, '-');
        let year: i32 = it.next()?.parse().ok()?;
        let month: u32 = it.next()?.parse().ok()?;
        let day: u32 = it.next()?.parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(ReviewDate {
            year,
            month,
            day,
        })
    }

    /// Today's date in UTC, from the system clock.
    pub fn today() -> ReviewDate {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        civil_from_days((secs / 86_400) as i64)
    }
}

impl fmt::Display for ReviewDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Howard Hinnant's days-since-epoch to civil date conversion.
fn civil_from_days(z: i64) -> ReviewDate {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    ReviewDate { year, month, day }
}

/// One FAQ article: the front matter plus the answer in three renderings.
#[derive(Debug, Clone)]
pub struct Article {
    pub id: ArticleId,
    /// The main question; also shown as the choice label when clarifying.
    pub title: String,
    /// Alternate phrasings of the question.
    pub questions: Vec<String>,
    pub tags: Vec<String>,
    pub lang: Lang,
    /// Follow-up articles to offer after this answer.
    pub related: Vec<ArticleId>,
    pub translation_of: Option<ArticleId>,
    /// This article is only answered directly at or above this confidence.
    pub min_confidence: Option<f32>,
    pub owner: Option<String>,
    pub review_by: Option<ReviewDate>,
    pub body_markdown: String,
    /// Sanitized HTML, safe to put in a page.
    pub html: String,
    /// Plain text: markdown stripped, link text kept.
    pub text: String,
    pub path: PathBuf,
}

impl Article {
    /// The title followed by the alternate phrasings.
    pub fn phrasings(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.title.as_str()).chain(self.questions.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_slugs_and_reject_the_rest() {
        assert!(ArticleId::parse("billing-payment-plans").is_ok());
        assert!(ArticleId::parse("CancerGov_0000001_1_Sec1").is_ok());
        assert_eq!(ArticleId::parse(""), Err(BadArticleId::Empty));
        assert!(ArticleId::parse("a b").is_err());
        assert!(ArticleId::parse("../etc").is_err());
        assert!(ArticleId::parse("é").is_err());
        assert!(ArticleId::parse(&"a".repeat(129)).is_err());
    }

    #[test]
    fn titles_and_labels_become_safe_ids() {
        let slug = |s: &str| ArticleId::slug(s, "draft").to_string();
        assert_eq!(slug("parking validation"), "parking-validation");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("¿¿??"), "draft");
        assert_eq!(
            slug("Where do I leave my bike?"),
            "where-do-i-leave-my-bike"
        );
    }

    #[test]
    fn review_dates_parse_and_order() {
        let d = ReviewDate::parse("2024-02-29").expect("valid");
        assert_eq!(d.to_string(), "2024-02-29");
        assert!(ReviewDate::parse("2024-13-01").is_none());
        assert!(ReviewDate::parse("soon").is_none());
        assert!(ReviewDate::today() > d);
        assert_eq!(civil_from_days(0).to_string(), "1970-01-01");
        assert_eq!(civil_from_days(19_782).to_string(), "2024-02-29");
    }
}
