//! Assembling a session's parts into one file, hashed on the way.
//!
//! The assembly runs while the parts arrive: each part that continues the file is queued,
//! and a task on tokio's blocking pool copies what is queued, then ends. No thread waits for
//! parts that have not arrived, so a session that received a part and then nothing for days
//! holds no thread (the blocking pool is bounded and lets idle threads go).

use std::collections::VecDeque;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha1::{Digest, Sha1};
use tokio::sync::watch;

use super::sessions::{Session, part_path};

/// The outcome of assembling a session's file: its SHA-1, or why it failed.
pub(crate) type Assembled = Result<[u8; 20], String>;

/// The sending side of an assembly that runs while parts arrive.
#[derive(Debug)]
pub(super) struct Feeder {
    /// The offset of the next part it needs.
    pub(super) next: u64,
    assembler: Arc<Assembler>,
}

/// An assembly fed part by part: a queue, and at most one worker draining it.
#[derive(Debug)]
struct Assembler {
    queue: Mutex<Queue>,
    dest: PathBuf,
    done: watch::Sender<Option<Assembled>>,
    /// Where workers run; `None` outside a tokio runtime (then on a short-lived thread).
    runtime: Option<tokio::runtime::Handle>,
}

#[derive(Debug, Default)]
struct Queue {
    parts: VecDeque<PathBuf>,
    /// Every part has been queued: the worker that empties the queue finishes the file.
    complete: bool,
    /// A worker is draining the queue; it holds `output` meanwhile.
    running: bool,
    output: Option<Output>,
    /// Set once something failed; parts queued later are ignored.
    failed: bool,
}

/// The file so far and the hash of what it holds.
#[derive(Debug)]
struct Output {
    file: BufWriter<std::fs::File>,
    hasher: Sha1,
}

impl Output {
    fn create(dest: &Path) -> std::io::Result<Output> {
        Ok(Output {
            file: BufWriter::with_capacity(1 << 20, std::fs::File::create(dest)?),
            hasher: Sha1::new(),
        })
    }

    /// Appends the content of the part file `part`, hashing it on the way.
    fn append(&mut self, part: &Path, buffer: &mut [u8]) -> std::io::Result<()> {
        let mut input = std::fs::File::open(part)?;
        loop {
            let n = input.read(buffer)?;
            if n == 0 {
                return Ok(());
            }
            self.hasher.update(&buffer[..n]);
            self.file.write_all(&buffer[..n])?;
        }
    }

    fn finish(mut self) -> std::io::Result<[u8; 20]> {
        self.file.flush()?;
        Ok(self.hasher.finalize().into())
    }
}

impl Assembler {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `part` (`None`: no more parts) and makes sure a worker will see it.
    fn push(self: &Arc<Self>, part: Option<PathBuf>) {
        let mut queue = self.lock();
        if queue.failed {
            return;
        }
        match part {
            Some(part) => queue.parts.push_back(part),
            None => queue.complete = true,
        }
        if queue.running {
            return;
        }
        queue.running = true;
        drop(queue);
        let this = self.clone();
        let work = move || this.drain();
        match &self.runtime {
            Some(runtime) => drop(runtime.spawn_blocking(work)),
            None => drop(std::thread::spawn(work)),
        }
    }

    /// The worker: appends the queued parts; when the queue is empty it ends, finishing
    /// the file if every part was queued, else leaving the file for the next worker.
    fn drain(&self) {
        let mut buffer = vec![0u8; 1 << 20];
        let mut output = self.lock().output.take();
        loop {
            let part = {
                let mut queue = self.lock();
                match queue.parts.pop_front() {
                    Some(part) => part,
                    None if queue.complete => break,
                    None => {
                        queue.output = output;
                        queue.running = false;
                        return;
                    }
                }
            };
            let appended = match &mut output {
                Some(output) => output.append(&part, &mut buffer),
                None => Output::create(&self.dest)
                    .and_then(|created| output.insert(created).append(&part, &mut buffer)),
            };
            if let Err(e) = appended {
                let mut queue = self.lock();
                queue.failed = true;
                queue.parts.clear();
                drop(queue);
                self.done.send_replace(Some(Err(e.to_string())));
                return;
            }
        }
        let outcome = match output {
            Some(output) => output.finish().map_err(|e| e.to_string()),
            None => Err("the assembly received no parts".to_string()),
        };
        self.done.send_replace(Some(outcome));
    }
}

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
            let (done, assembly) = watch::channel(None);
            let assembler = Arc::new(Assembler {
                queue: Mutex::new(Queue::default()),
                dest: self.dir.join("assembled.tmp"),
                done,
                runtime: tokio::runtime::Handle::try_current().ok(),
            });
            self.assembly = Some(assembly);
            self.feeder = Some(Feeder { next: 0, assembler });
        }
        let Some(feeder) = &mut self.feeder else {
            return;
        };
        while let Some(part) = self.parts.get(&feeder.next) {
            feeder
                .assembler
                .push(Some(part_path(&self.dir, feeder.next)));
            feeder.next += part.size;
        }
        if feeder.next >= self.file_size {
            feeder.assembler.push(None);
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
    let mut output = Output::create(dest)?;
    let mut buffer = vec![0u8; 1 << 20];
    for part in parts {
        output.append(&part, &mut buffer)?;
    }
    output.finish()
}
