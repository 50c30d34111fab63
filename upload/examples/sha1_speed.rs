//! Measures this machine's single-core SHA-1 speed with the `sha1` crate the upload engine
//! uses (every uploaded byte is hashed twice: its part's digest and the whole file's).
//!
//! ```text
//! cargo run --release -p box-upload --example sha1_speed [-- MIB]
//! ```

use std::time::Instant;

use sha1::{Digest, Sha1};

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1024);
    // 8 MiB of non-trivial bytes, hashed over and over (a part-sized buffer).
    let mut chunk = vec![0u8; 8 << 20];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for byte in &mut chunk {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *byte = (x >> 24) as u8;
    }
    let total = (mib << 20).max(chunk.len());
    let mut hasher = Sha1::new();
    // Warm up (page faults, CPU frequency).
    hasher.update(&chunk);
    let started = Instant::now();
    let mut hashed = 0;
    while hashed < total {
        hasher.update(&chunk);
        hashed += chunk.len();
    }
    let elapsed = started.elapsed();
    let digest = hasher.finalize();
    println!(
        "sha1: {} MiB in {:.3} s = {:.0} MB/s on one core (digest starts {:02x}{:02x})",
        hashed >> 20,
        elapsed.as_secs_f64(),
        hashed as f64 / 1e6 / elapsed.as_secs_f64(),
        digest[0],
        digest[1]
    );
}
