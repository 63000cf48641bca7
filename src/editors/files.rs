//! The article files themselves: their version tag, the atomic write (a
//! temporary file beside it, synced, then renamed over it, so the watcher
//! and a reader only ever see the old file or the new one), where a new
//! article goes, and retiring one. Blocking: call off the runtime.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use std::sync::Arc;

use crate::knowledge::{Article, ArticleId};
use crate::lang::Lang;

/// The version of a file's bytes: what `ETag`/`If-Match` carry, and what
/// the audit log records before and after a save.
pub fn etag(bytes: &[u8]) -> String {
    crate::ids::hex(&Sha256::digest(bytes)[..12])
}

/// The tag an `If-Match` header names (quotes and a weak prefix dropped).
pub fn if_match(header: &str) -> &str {
    let h = header.trim();
    let h = h.strip_prefix("W/").unwrap_or(h);
    h.trim_matches('"')
}

/// The file's text now, or `None` when it is gone.
pub fn read(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// When the file last changed, as an RFC 3339 timestamp.
pub fn modified(path: &Path) -> Option<String> {
    let at = std::fs::metadata(path).ok()?.modified().ok()?;
    let ts = jiff::Timestamp::try_from(at).ok()?;
    Some(ts.round(jiff::Unit::Second).ok()?.to_string())
}

/// Replaces (or creates) `path` with `text` in one step. With `create`, an
/// existing file is left alone and the write fails with `AlreadyExists`.
pub fn write_atomic(path: &Path, text: &str, create: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("article");
    // A dot name ending in `.tmp`: the knowledge loader skips it.
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        if create {
            // Fails when the name is taken, whoever took it.
            std::fs::hard_link(&tmp, path)?;
            std::fs::remove_file(&tmp)?;
        } else {
            std::fs::rename(&tmp, path)?;
        }
        // The rename itself survives a power cut once the folder is synced.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Where a new article goes: beside the served articles of its language
/// that share its first tag (the bundled English articles have a folder
/// per topic), else in its language's folder when there is one, else
/// beside any article of its language, else in a new `<lang>/` folder.
pub fn new_path(
    dir: &Path,
    lang: Lang,
    tags: &[String],
    id: &ArticleId,
    served: &[Arc<Article>],
) -> PathBuf {
    let same_lang = || served.iter().filter(|a| a.lang == lang);
    let tag = tags.first().map(|t| t.trim());
    let folder = same_lang()
        .find(|a| tag.is_some() && a.tags.first().map(String::as_str) == tag)
        .and_then(|a| a.path.parent().map(Path::to_path_buf))
        .or_else(|| Some(dir.join(lang.as_str())).filter(|d| d.is_dir()))
        .or_else(|| same_lang().find_map(|a| a.path.parent().map(Path::to_path_buf)))
        .unwrap_or_else(|| dir.join(lang.as_str()));
    folder.join(format!("{id}.md"))
}

/// Renames an article file out of the loader's sight (`x.md` →
/// `x.md.retired`, or `x.md.retired.2`… when retired before), keeping it
/// for the record and for git; returns where it went.
pub fn retire(path: &Path) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("article.md");
    let dir = path.parent().unwrap_or(Path::new("."));
    for n in 1..=100 {
        let to = match n {
            1 => dir.join(format!("{name}.retired")),
            n => dir.join(format!("{name}.retired.{n}")),
        };
        // A hard link refuses a taken name; then the article file goes.
        match std::fs::hard_link(path, &to) {
            Ok(()) => {
                std::fs::remove_file(path)?;
                return Ok(to);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "this article was retired 100 times",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_hex_of_the_bytes_and_headers_are_unwrapped() {
        assert_eq!(etag(b"a"), etag(b"a"));
        assert_ne!(etag(b"a"), etag(b"b"));
        assert_eq!(etag(b"a").len(), 24);
        assert_eq!(if_match("W/\"abc\""), "abc");
        assert_eq!(if_match(" \"abc\" "), "abc");
    }

    #[test]
    fn writes_replace_create_refuses_and_retire_keeps_every_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("en").join("a.md");
        write_atomic(&path, "one", true).unwrap();
        assert_eq!(
            write_atomic(&path, "two", true).unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        write_atomic(&path, "three", false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three");
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        let first = retire(&path).unwrap();
        assert!(first.ends_with("a.md.retired") && !path.exists());
        write_atomic(&path, "four", true).unwrap();
        let second = retire(&path).unwrap();
        assert!(second.ends_with("a.md.retired.2"));
        assert_eq!(std::fs::read_to_string(first).unwrap(), "three");
    }
}
