//! Article embeddings kept on disk, keyed by a hash of the model file and
//! the exact text embedded: a restart re-embeds nothing, and a reload only
//! what changed. Only clinic content (article titles and bodies) is ever
//! stored here, never a patient's words.
//!
//! The file is a sequence of records `{32-byte key; u32 dimensions; f32 ×
//! dimensions}`, appended as new texts are embedded and rewritten without
//! stale records when it grows past a bound.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Embedding, Role};

/// Records kept; a longer file is rewritten with the ones in use.
const MAX_RECORDS: usize = 200_000;

type Key = [u8; 32];

pub struct VectorCache {
    path: Option<PathBuf>,
    /// Distinguishes one model's vectors from another's.
    model_tag: String,
    vectors: HashMap<Key, Embedding>,
    /// Keys asked for since the last rewrite (what is in use).
    used: std::collections::HashSet<Key>,
    appended: Vec<Key>,
}

impl VectorCache {
    /// Opens (or starts) the cache at `path`; a damaged file is started
    /// afresh. `None` keeps everything in memory.
    pub fn open(path: Option<PathBuf>, model_tag: &str) -> VectorCache {
        let vectors = path.as_deref().map(read).unwrap_or_default();
        VectorCache {
            path,
            model_tag: model_tag.to_owned(),
            vectors,
            used: Default::default(),
            appended: Vec::new(),
        }
    }

    /// Where the cache lives in a model directory.
    pub fn path_in(model_dir: &Path) -> PathBuf {
        model_dir.join("article-vectors.bin")
    }

    pub fn key(&self, role: Role, text: &str) -> Key {
        let mut h = Sha256::new();
        h.update(self.model_tag.as_bytes());
        h.update([0, role as u8]);
        h.update(text.as_bytes());
        h.finalize().into()
    }

    pub fn get(&mut self, key: &Key) -> Option<Embedding> {
        self.used.insert(*key);
        self.vectors.get(key).cloned()
    }

    pub fn put(&mut self, key: Key, vector: Embedding) {
        self.used.insert(key);
        if self.vectors.insert(key, vector).is_none() {
            self.appended.push(key);
        }
    }

    /// Writes what was added (or the whole file, when it has grown too
    /// long). A failure only costs re-embedding after the next restart.
    pub fn save(&mut self) {
        if self.vectors.len() <= MAX_RECORDS {
            return self.append_new();
        }
        let Some(path) = self.path.clone() else {
            return;
        };
        let used = std::mem::take(&mut self.used);
        self.vectors.retain(|k, _| used.contains(k));
        self.used = used;
        let written = rewrite(&path, &self.vectors);
        self.written(&path, written);
    }

    /// Appends what was added since the last write, never rewriting: cheap
    /// enough after every batch of a long build, so a build cut short (a
    /// crash, a restart) keeps what it had embedded.
    pub fn append_new(&mut self) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let written = append(&path, &self.vectors, &self.appended);
        self.written(&path, written);
    }

    /// After a write: what was added is on disk, or the failure is logged
    /// (the vectors stay in memory and are written next time).
    fn written(&mut self, path: &Path, result: std::io::Result<()>) {
        match result {
            Ok(()) => self.appended.clear(),
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "cannot save article embeddings")
            }
        }
    }
}

fn read(path: &Path) -> HashMap<Key, Embedding> {
    let mut bytes = Vec::new();
    if std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .is_err()
    {
        return HashMap::new();
    }
    let mut out = HashMap::new();
    let mut at = 0;
    while at + 36 <= bytes.len() {
        let key: Key = bytes[at..at + 32].try_into().unwrap_or([0; 32]);
        let dims = u32::from_le_bytes(bytes[at + 32..at + 36].try_into().unwrap_or([0; 4]));
        let end = at + 36 + dims as usize * 4;
        if dims == 0 || dims > 4096 || end > bytes.len() {
            break;
        }
        let v: Vec<f32> = bytes[at + 36..end]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(key, Embedding::from(v));
        at = end;
    }
    // A torn last record (a crash mid-append): keep what came before, and
    // cut the file there, so what is appended next can be read back.
    if at < bytes.len() {
        let cut = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(at as u64));
        if let Err(e) = cut {
            tracing::warn!(error = %e, path = %path.display(), "cannot trim article embeddings");
        }
    }
    out
}

fn record(out: &mut Vec<u8>, key: &Key, v: &[f32]) {
    out.extend_from_slice(key);
    out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

fn append(path: &Path, vectors: &HashMap<Key, Embedding>, keys: &[Key]) -> std::io::Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut buf = Vec::new();
    for k in keys {
        if let Some(v) = vectors.get(k) {
            record(&mut buf, k, v);
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(&buf)
}

fn rewrite(path: &Path, vectors: &HashMap<Key, Embedding>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    for (k, v) in vectors {
        record(&mut buf, k, v);
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &buf)?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_survive_a_restart_and_a_torn_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.bin");
        let mut cache = VectorCache::open(Some(path.clone()), "model-a");
        let k = cache.key(Role::Passage, "Our hours");
        cache.put(k, Embedding::from(vec![0.6, 0.8]));
        cache.save();
        // Half a record at the end, as a crash during an append leaves it.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(&[1, 2, 3]).unwrap();
        let mut again = VectorCache::open(Some(path.clone()), "model-a");
        assert_eq!(again.get(&k).as_deref(), Some(&[0.6f32, 0.8][..]));
        // What is appended after the torn record is read back too.
        let k2 = again.key(Role::Passage, "Parking");
        again.put(k2, Embedding::from(vec![1.0, 0.0]));
        again.append_new();
        let mut third = VectorCache::open(Some(path.clone()), "model-a");
        assert!(third.get(&k).is_some() && third.get(&k2).is_some());
        // Another model's vectors are never mistaken for this one's.
        let other = VectorCache::open(Some(path), "model-b");
        assert_ne!(other.key(Role::Passage, "Our hours"), k);
    }
}
