//! Progress of the whole run on stderr: on a terminal, one bar for the run (bytes, files
//! done of all, rate, time left) and one line per big file being sent; otherwise (a pipe,
//! a log, `--json`), one plain line per file as it ends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::report::FileReport;

/// The progress display, cheap to clone.
#[derive(Clone)]
pub struct Display {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None`: plain lines.
    bars: Option<(MultiProgress, ProgressBar)>,
    files_total: u64,
    files_done: AtomicU64,
    quiet: bool,
}

/// One file's share of the display; clones share it.
#[derive(Clone)]
pub struct FileProgress {
    display: Display,
    /// Bytes of this file already counted in the run's bar.
    counted: Arc<Mutex<u64>>,
    size: u64,
    bar: Option<ProgressBar>,
}

impl Display {
    /// A display for `files_total` files of `bytes_total` bytes; bars when `terminal`.
    /// `quiet` (for `--json`) leaves out the plain lines.
    pub fn new(terminal: bool, quiet: bool, files_total: u64, bytes_total: u64) -> Display {
        let bars = terminal.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let main = multi.add(ProgressBar::new(bytes_total));
            main.set_style(style(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} \
                 {binary_bytes_per_sec} ETA {eta} {msg}",
            ));
            main.set_message(format!("0/{files_total} files"));
            main.enable_steady_tick(Duration::from_millis(200));
            (multi, main)
        });
        Display {
            inner: Arc::new(Inner {
                bars,
                files_total,
                files_done: AtomicU64::new(0),
                quiet,
            }),
        }
    }

    /// A line above the bars, or on stderr.
    pub fn say(&self, line: &str) {
        match &self.inner.bars {
            Some((multi, _)) => {
                let _ = multi.println(line);
            }
            None => eprintln!("{line}"),
        }
    }

    /// Starts showing a file; a big one (`big`) gets a line of its own on a terminal.
    pub fn start_file(&self, name: &str, size: u64, big: bool) -> FileProgress {
        let bar = match (&self.inner.bars, big) {
            (Some((multi, _)), true) => {
                let bar = multi.add(ProgressBar::new(size));
                bar.set_style(style("  {bytes:>10}/{total_bytes:<10} {wide_msg}"));
                bar.set_message(name.to_string());
                Some(bar)
            }
            _ => None,
        };
        FileProgress {
            display: self.clone(),
            counted: Arc::new(Mutex::new(0)),
            size,
            bar,
        }
    }

    /// Clears the bars.
    pub fn finish(&self) {
        if let Some((multi, main)) = &self.inner.bars {
            main.finish_and_clear();
            let _ = multi.clear();
        }
    }

    fn add_bytes(&self, bytes: u64) {
        if let Some((_, main)) = &self.inner.bars {
            main.inc(bytes);
        }
    }
}

impl FileProgress {
    /// Another handle on the same file's progress (for a progress callback).
    pub fn handle(&self) -> FileProgress {
        self.clone()
    }

    /// The file has `done` bytes stored (parts found stored when resuming included).
    pub fn update(&self, done: u64) {
        let Ok(mut counted) = self.counted.lock() else {
            return;
        };
        let done = done.min(self.size);
        if done > *counted {
            self.display.add_bytes(done - *counted);
            *counted = done;
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
    }

    /// The file ended as `report` says: its bytes all count as done, failed ones too, so
    /// that the time left is that of the files still to go.
    pub fn finish(self, report: &FileReport) {
        self.update(self.size);
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let inner = &self.display.inner;
        let done = inner.files_done.fetch_add(1, Ordering::Relaxed) + 1;
        match &inner.bars {
            Some((_, main)) => main.set_message(format!("{done}/{} files", inner.files_total)),
            None if !inner.quiet => eprintln!(
                "[{done}/{}] {} {}",
                inner.files_total,
                report.outcome.label(),
                crate::report::shown_path(&report.path)
            ),
            None => {}
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}
