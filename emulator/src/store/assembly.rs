//! Assembling a session's parts into one file, hashed on the way.

use std::path::{Path, PathBuf};

use tokio::sync::watch;

use super::sessions::{Session, part_path};

/// The sending side of an assembly that runs while parts arrive.
#[derive(Debug)]
pub(super) struct Feeder {
    /// The offset of the next part it needs.
    pub(super) next: u64,
    pub(super) parts: std::sync::mpsc::Sender<PathBuf>,
}

/// The outcome of assembling a session's file: its SHA-1, or why it failed.
pub(crate) type Assembled = Result<[u8; 20], String>;

impl Session {
    /// Hands the stored parts that now continue the file, in order, to the assembly; the
    /// part at offset 0 starts it. The whole-file SHA-1 and the copy into one file then
    /// overlap the upload, instead of all following the commit. A failed assembly is
    /// redone whole by the next commit.
    pub(super) fn feed_assembly(&mut self) {
        if self.feeder.is_none() {
            if self.assembly.is_some() || !self.parts.contains_key(&0) {
                return;
            }
            let (parts, received) = std::sync::mpsc::channel();
            let (done, assembly) = watch::channel(None);
            let dest = self.dir.join("assembled.tmp");
            let started = std::thread::Builder::new()
                .name("assembly".into())
                .spawn(move || {
                    let outcome = assemble(received, &dest).map_err(|e| e.to_string());
                    done.send_replace(Some(outcome));
                });
            if started.is_err() {
                return;
            }
            self.assembly = Some(assembly);
            self.feeder = Some(Feeder { next: 0, parts });
        }
        let Some(feeder) = &mut self.feeder else {
            return;
        };
        while let Some(part) = self.parts.get(&feeder.next) {
            // A closed channel means the assembly failed; the commit will see why.
            let _ = feeder.parts.send(part_path(&self.dir, feeder.next));
            feeder.next += part.size;
        }
        if feeder.next >= self.file_size {
            // Every part is handed over: the closed channel ends the assembly.
            self.feeder = None;
        }
    }
}

/// Concatenates the part files into `dest` in the order given, hashing on the way
/// (blocking I/O); returns the whole file's SHA-1.
pub(crate) fn assemble(
    parts: impl IntoIterator<Item = PathBuf>,
    dest: &Path,
) -> std::io::Result<[u8; 20]> {
    use sha1::{Digest, Sha1};
    use std::io::{Read, Write};

    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(dest)?);
    let mut hasher = Sha1::new();
    let mut buffer = vec![0u8; 1 << 20];
    for part in parts {
        let mut input = std::fs::File::open(part)?;
        loop {
            let n = input.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            out.write_all(&buffer[..n])?;
        }
    }
    out.flush()?;
    Ok(hasher.finalize().into())
}
