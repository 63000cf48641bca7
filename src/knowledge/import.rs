//! `knowledge import`: turns an FAQ export (JSON Lines, optionally gzipped, or
//! CSV) into article files with unique slug ids, in the fixed file format.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::article::{ArticleId, MAX_ID_LEN};
use crate::lang::Lang;

/// Most records read from one export.
pub const MAX_RECORDS: usize = 200_000;

/// One FAQ entry from an export.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Record {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default, alias = "alternates")]
    pub questions: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// A topic or category heading from the export; kept as one more tag.
    #[serde(default, alias = "category")]
    pub topic: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Bad {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{0} already exists (use --force to overwrite)")]
    Exists(PathBuf),
}

/// An article file to write: its name in the output directory and contents.
#[derive(Debug, Clone)]
pub struct ArticleFile {
    /// Index of the record it came from.
    pub source: usize,
    pub id: ArticleId,
    pub file_name: String,
    pub contents: String,
}

/// Reads `.jsonl`, `.jsonl.gz` or `.csv` records.
pub fn read_records(path: &Path) -> Result<Vec<Record>, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let name = path.to_string_lossy().to_lowercase();
    let reader: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let bad = |line: usize, message: String| ImportError::Bad {
        path: path.to_owned(),
        line,
        message,
    };
    let mut records = Vec::new();
    if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers = csv.headers().map_err(|e| bad(1, e.to_string()))?.clone();
        let col = |n: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(n))
        };
        let (Some(q), Some(a)) = (col("question"), col("answer")) else {
            return Err(bad(
                1,
                "the header row needs `question` and `answer` columns".into(),
            ));
        };
        let (alt, id, tags, topic, lang) = (
            col("alternates").or(col("questions")),
            col("id"),
            col("tags"),
            col("topic").or(col("category")),
            col("lang"),
        );
        for (i, row) in csv.records().enumerate().take(MAX_RECORDS) {
            let row = row.map_err(|e| bad(i + 2, e.to_string()))?;
            let get = |c: Option<usize>| c.and_then(|c| row.get(c)).map(str::to_owned);
            let split = |c: Option<usize>| {
                get(c)
                    .map(|s| {
                        s.split('|')
                            .map(|x| x.trim().to_owned())
                            .filter(|x| !x.is_empty())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            records.push(Record {
                id: get(id).filter(|s| !s.trim().is_empty()),
                question: get(Some(q)).unwrap_or_default(),
                answer: get(Some(a)).unwrap_or_default(),
                questions: split(alt),
                tags: split(tags),
                topic: get(topic).filter(|s| !s.trim().is_empty()),
                lang: get(lang).filter(|s| !s.trim().is_empty()),
            });
        }
    } else {
        for (i, line) in BufReader::new(reader).lines().enumerate().take(MAX_RECORDS) {
            let line = line.map_err(io)?;
            if line.trim().is_empty() {
                continue;
            }
            let record: Record =
                serde_json::from_str(&line).map_err(|e| bad(i + 1, e.to_string()))?;
            records.push(record);
        }
    }
    Ok(records)
}

/// A lowercase ASCII slug: letters and digits joined by single dashes.
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    for w in crate::normalize::words(s) {
        let w: String = w.chars().filter(char::is_ascii_alphanumeric).collect();
        if w.is_empty() {
            continue;
        }
        if out.len() + w.len() + 1 > 60 {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&w);
    }
    if out.is_empty() {
        "article".to_owned()
    } else {
        out
    }
}

#[derive(serde::Serialize)]
struct Front<'a> {
    id: &'a str,
    title: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    questions: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<&'a str>,
}

/// Article files for `records`; records without a question or answer are
/// reported (1-based record number) and skipped.
pub fn to_files(records: &[Record]) -> (Vec<ArticleFile>, Vec<String>) {
    let mut used = HashSet::new();
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let (title, answer) = (r.question.trim(), r.answer.trim());
        if title.is_empty() || answer.is_empty() {
            skipped.push(format!(
                "record {}: needs both a question and an answer",
                i + 1
            ));
            continue;
        }
        let lang = match r.lang.as_deref().map(str::parse::<Lang>) {
            Some(Ok(l)) => Some(l),
            Some(Err(e)) => {
                skipped.push(format!("record {}: {e}", i + 1));
                continue;
            }
            None => None,
        };
        let base = match r.id.as_deref().map(str::trim).map(ArticleId::parse) {
            Some(Ok(id)) => id.as_str().to_owned(),
            Some(Err(_)) => slugify(r.id.as_deref().unwrap_or_default()),
            None => slugify(title),
        };
        let mut id = base.clone();
        let mut n = 2;
        while !used.insert(id.to_lowercase()) {
            id = format!("{}-{n}", &base[..base.len().min(MAX_ID_LEN - 8)]);
            n += 1;
        }
        let Ok(article_id) = ArticleId::parse(&id) else {
            skipped.push(format!("record {}: cannot make an id", i + 1));
            continue;
        };
        let mut tags = r.tags.clone();
        if let Some(topic) = r.topic.as_deref().map(str::trim).filter(|t| !t.is_empty())
            && !tags.iter().any(|t| t.eq_ignore_ascii_case(topic))
        {
            tags.push(topic.to_owned());
        }
        let front = Front {
            id: &id,
            title,
            questions: &r.questions,
            tags: &tags,
            lang: lang.filter(|l| *l != Lang::En).map(Lang::as_str),
        };
        let Ok(toml) = toml::to_string(&front) else {
            skipped.push(format!("record {}: cannot write front matter", i + 1));
            continue;
        };
        files.push(ArticleFile {
            source: i,
            file_name: format!("{id}.md"),
            id: article_id,
            contents: format!("+++\n{toml}+++\n{answer}\n"),
        });
    }
    (files, skipped)
}

/// Writes `files` into `out`; refuses to overwrite unless `force`.
pub fn write_files(out: &Path, files: &[ArticleFile], force: bool) -> Result<(), ImportError> {
    let io = |path: &Path, source| ImportError::Io {
        path: path.to_owned(),
        source,
    };
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    if !force && let Some(f) = files.iter().find(|f| out.join(&f.file_name).exists()) {
        return Err(ImportError::Exists(out.join(&f.file_name)));
    }
    for f in files {
        let path = out.join(&f.file_name);
        std::fs::write(&path, &f.contents).map_err(|e| io(&path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_and_bounded() {
        assert_eq!(
            slugify("Do you offer payment plans?"),
            "do-you-offer-payment-plans"
        );
        assert_eq!(slugify("¿Dónde está?"), "donde-esta");
        assert_eq!(slugify("🙂"), "article");
        assert!(slugify(&"word ".repeat(100)).len() <= 60);
    }

    #[test]
    fn files_get_unique_ids_and_parse_back() {
        let r = |q: &str| Record {
            question: q.into(),
            answer: "Yes \"quoted\".".into(),
            ..Record::default()
        };
        let (files, skipped) = to_files(&[r("Parking?"), r("parking"), Record::default()]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(files[0].id.as_str(), "parking");
        assert_eq!(files[1].id.as_str(), "parking-2");
        let parsed =
            super::super::parse::parse_article(Path::new(&files[0].file_name), &files[0].contents)
                .expect("parses");
        assert_eq!(parsed.article.title, "Parking?");
        assert_eq!(parsed.article.text, "Yes \"quoted\".");
    }

    #[test]
    fn a_topic_or_category_becomes_a_tag() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = dir.path().join("faq.jsonl");
        std::fs::write(
            &jsonl,
            r#"{"question":"Where did it start?","answer":"In bats.","topic":"Origin - Source Animal","tags":["origin"]}"#,
        )
        .unwrap();
        let csv = dir.path().join("faq.csv");
        std::fs::write(
            &csv,
            "question,answer,category\nParking?,Level 2.,Getting here\n",
        )
        .unwrap();
        let tags = |path: &Path| {
            let (files, _) = to_files(&read_records(path).unwrap());
            super::super::parse::parse_article(Path::new(&files[0].file_name), &files[0].contents)
                .unwrap()
                .article
                .tags
        };
        assert_eq!(tags(&jsonl), ["origin", "Origin - Source Animal"]);
        assert_eq!(tags(&csv), ["Getting here"]);
    }
}
