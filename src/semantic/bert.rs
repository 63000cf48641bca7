//! The encoder: BERT (post-layer-norm) as multilingual-e5-small uses it,
//! written with candle's tensor operations. Weights are dequantised to f32
//! once at load (about 85 MB); the 250,037-row word table stays in 4 bits
//! (54 MB) and only the rows a batch uses are unpacked.
//!
//! The sentence embedding is the mean of the last layer over the real
//! tokens, L2-normalised, as the e5 models are trained.

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{LayerNorm, Linear};

use super::file::{self, Config, ModelFile, Stored};

/// Longest input in tokens (the model's position table).
pub const MAX_TOKENS: usize = 512;

struct Layer {
    /// Query, key and value in one matrix: one product instead of three.
    qkv: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    up: Linear,
    down: Linear,
    output_norm: LayerNorm,
}

pub struct Bert {
    config: Config,
    /// The word table, Q4_0, one row per token id.
    words: Vec<u8>,
    row_bytes: usize,
    positions: Tensor,
    token_type: Tensor,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    device: Device,
}

impl Bert {
    pub fn load(model: &ModelFile<'_>) -> anyhow::Result<Bert> {
        let c = model.config;
        let (h, f) = (c.hidden, c.ffn);
        let device = Device::Cpu;
        let vector = |name: &str, n: usize| -> anyhow::Result<Tensor> {
            Ok(Tensor::from_vec(model.f32s(name, n)?, n, &device)?)
        };
        let matrix = |name: &str, rows: usize, cols: usize| -> anyhow::Result<Tensor> {
            Ok(Tensor::from_vec(
                model.f32s(name, rows * cols)?,
                (rows, cols),
                &device,
            )?)
        };
        let linear = |name: &str, rows: usize, cols: usize| -> anyhow::Result<Linear> {
            Ok(Linear::new(
                matrix(&format!("{name}.w"), rows, cols)?,
                Some(vector(&format!("{name}.b"), rows)?),
            ))
        };
        let norm = |name: &str| -> anyhow::Result<LayerNorm> {
            Ok(LayerNorm::new(
                vector(&format!("{name}.w"), h)?,
                vector(&format!("{name}.b"), h)?,
                c.eps,
            ))
        };
        let words = match model.tensor("emb.word", c.vocab_rows * h)? {
            Stored::Q4(bytes) => bytes.to_vec(),
            Stored::F32(_) => anyhow::bail!("expected a 4-bit word table"),
        };
        let mut layers = Vec::with_capacity(c.layers);
        for l in 0..c.layers {
            let parts = ["q", "k", "v"].map(|p| format!("l{l}.{p}"));
            let weights = parts
                .iter()
                .map(|p| matrix(&format!("{p}.w"), h, h))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let biases = parts
                .iter()
                .map(|p| vector(&format!("{p}.b"), h))
                .collect::<anyhow::Result<Vec<_>>>()?;
            layers.push(Layer {
                qkv: Linear::new(Tensor::cat(&weights, 0)?, Some(Tensor::cat(&biases, 0)?)),
                attention_out: linear(&format!("l{l}.ao"), h, h)?,
                attention_norm: norm(&format!("l{l}.aln"))?,
                up: linear(&format!("l{l}.fi"), f, h)?,
                down: linear(&format!("l{l}.fo"), h, f)?,
                output_norm: norm(&format!("l{l}.oln"))?,
            });
        }
        Ok(Bert {
            config: c,
            words,
            row_bytes: file::q4_row_bytes(h),
            positions: matrix("emb.pos", c.max_positions, h)?,
            token_type: matrix("emb.type", c.type_rows, h)?.get(0)?,
            embedding_norm: norm("emb.ln")?,
            layers,
            device,
        })
    }

    pub fn dimensions(&self) -> usize {
        self.config.hidden
    }

    /// Embeds a batch of token id sequences (each at most the position
    /// table long); one unit vector per sequence.
    pub fn embed(&self, batch: &[Vec<u32>]) -> anyhow::Result<Vec<Vec<f32>>> {
        let h = self.config.hidden;
        let b = batch.len();
        let t = batch
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .min(self.config.max_positions);
        if b == 0 || t == 0 {
            return Ok(Vec::new());
        }
        let mut words = vec![0.0f32; b * t * h];
        let mut mask = vec![0.0f32; b * t];
        for (i, ids) in batch.iter().enumerate() {
            for (j, id) in ids.iter().take(t).enumerate() {
                let row = (*id as usize).min(self.config.vocab_rows - 1);
                let bytes = &self.words[row * self.row_bytes..(row + 1) * self.row_bytes];
                file::dequantise(bytes, &mut words[(i * t + j) * h..(i * t + j + 1) * h]);
                mask[i * t + j] = 1.0;
            }
        }
        let x = Tensor::from_vec(words, (b, t, h), &self.device)?
            .broadcast_add(&self.positions.narrow(0, 0, t)?)?
            .broadcast_add(&self.token_type)?;
        let mut x = self.embedding_norm.forward(&x)?;
        let mask = Tensor::from_vec(mask, (b, t), &self.device)?;
        // 0 where a token is real, a large negative number where it is padding.
        let bias = ((&mask - 1.0)? * 1e9)?.reshape((b, 1, 1, t))?;
        for layer in &self.layers {
            x = self.layer(layer, &x, &bias)?;
        }
        let mask = mask.unsqueeze(2)?;
        let mean = x
            .broadcast_mul(&mask)?
            .sum(1)?
            .broadcast_div(&mask.sum(1)?)?;
        let norm = mean.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
        Ok(mean.broadcast_div(&norm)?.to_dtype(DType::F32)?.to_vec2()?)
    }

    fn layer(&self, l: &Layer, x: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t, h) = x.dims3()?;
        let heads = self.config.heads;
        let d = h / heads;
        // (b, t, 3h) → (3, b, heads, t, d): query, key and value by head.
        let qkv = l
            .qkv
            .forward(x)?
            .reshape((b, t, 3, heads, d))?
            .permute((2, 0, 3, 1, 4))?
            .contiguous()?;
        let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
        let scores = (q.matmul(&k.t()?)? * (1.0 / (d as f64).sqrt()))?.broadcast_add(bias)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = weights
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, t, h))?;
        let x = l
            .attention_norm
            .forward(&(l.attention_out.forward(&context)? + x)?)?;
        let up = gelu(&l.up.forward(&x)?)?;
        l.output_norm.forward(&(l.down.forward(&up)? + x)?)
    }
}

/// GELU, exact form (x·Φ(x)), as BERT is trained, with an erf accurate to
/// about 1e-7: candle's own goes through a scalar library erf that took a
/// fifth of a forward pass.
fn gelu(x: &Tensor) -> candle_core::Result<Tensor> {
    let mut values = x.flatten_all()?.to_vec1::<f32>()?;
    for v in &mut values {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
    Tensor::from_vec(values, x.shape(), x.device())
}

/// erf, Abramowitz and Stegun 7.1.26 (absolute error at most 1.5e-7).
fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_8,
        -1.453_152_1,
        1.061_405_4,
    ];
    let z = x.abs();
    let t = 1.0 / (1.0 + P * z);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let y = 1.0 - poly * (-z * z).exp();
    y.copysign(x)
}

#[cfg(test)]
mod tests {
    /// erf by its Taylor series in f64 (exact enough for |x| ≤ 3).
    fn series(x: f64) -> f64 {
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_is_within_its_stated_error() {
        for i in -300..=300 {
            let x = i as f32 / 100.0;
            let err = (f64::from(super::erf(x)) - series(f64::from(x))).abs();
            assert!(err < 3e-7, "erf({x}) off by {err}");
        }
        // Beyond 3, erf is within erfc(3) = 2.2e-5 of ±1.
        for x in [3.5f32, 5.0, 9.0, 40.0] {
            assert!((super::erf(x) - 1.0).abs() < 2.3e-5);
            assert!((super::erf(-x) + 1.0).abs() < 2.3e-5);
        }
    }
}
