//! A whole run: plan the files, connect, find or create the folders, upload every file
//! within one budget of requests, then summarize.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use box_upload::upload::MIN_FILE_SIZE;
use box_upload::{CancellationToken, Uploader};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::Args;
use crate::connect::{Connection, connect};
use crate::display::Display;
use crate::folders::{self, Listing};
use crate::report::{Exit, FileReport, Outcome};
use crate::state::Store;
use crate::transfer::{Context, Target};
use crate::walk::{LocalFile, Plan};

/// A folder of the tree in Box: its id and what it held, or why it cannot be used.
type FolderSlot = Result<(String, Arc<Listing>), String>;

pub async fn run(args: Args) -> Exit {
    let started = Instant::now();
    let mut reports = Vec::new();
    let mut plan = Plan::default();
    for path in &args.paths {
        if let Err(error) = plan.add(path, args.name.as_deref()) {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            reports.push(FileReport::failed(
                path.clone(),
                name.unwrap_or_default(),
                0,
                error,
            ));
        }
    }
    let terminal = std::io::stderr().is_terminal();
    let connection = match connect(|line| eprintln!("{line}")).await {
        Ok(connection) => connection,
        Err(error) => {
            eprintln!("error: {error}");
            return Exit::Config;
        }
    };
    let display = Display::new(
        terminal,
        args.json,
        plan.files.len() as u64,
        plan.total_bytes(),
    );
    for skipped in &plan.skipped {
        if skipped.unreadable {
            reports.push(FileReport::failed(
                skipped.path.clone(),
                skipped
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                0,
                skipped.reason.clone(),
            ));
        } else {
            display.say(&format!(
                "left out {}: {}",
                skipped.path.display(),
                skipped.reason
            ));
        }
    }
    let store = resume_store(&args, &connection, &display);
    let concurrency = usize::from(args.concurrency);
    let budget = Arc::new(Semaphore::new(concurrency));
    let cancel = CancellationToken::new();
    watch_ctrl_c(cancel.clone(), display.clone());
    let uploader = Uploader::new(connection.client.clone())
        .concurrency(concurrency)
        .request_budget(budget.clone())
        .cancel_token(cancel.clone())
        .min_file_size(args.chunked_from.clamp(1, MIN_FILE_SIZE))
        .direct_upload_threshold(args.chunked_from.max(1))
        .on_conflict(args.on_conflict.policy());
    let context = Context {
        uploader,
        budget,
        store,
        upload_url: connection.upload_url.clone(),
        on_conflict: args.on_conflict,
        chunked_from: args.chunked_from.max(1),
        display: display.clone(),
        cancel: cancel.clone(),
        credentials: connection.credentials,
    };

    let exit = match (&args.resume, &args.new_version) {
        (Some(session_id), _) => {
            for file in &plan.files {
                let target = Target::Resume { session_id };
                reports.push(context.upload(file, target).await);
            }
            None
        }
        (None, Some(file_id)) => {
            for file in &plan.files {
                reports.push(context.upload(file, Target::Version { file_id }).await);
            }
            None
        }
        (None, None) => match upload_tree(&context, &args.folder, plan).await {
            Ok(done) => {
                reports.extend(done);
                None
            }
            Err(error) => {
                display.finish();
                eprintln!("error: {error}");
                Some(Exit::Config)
            }
        },
    };
    display.finish();
    if let Some(exit) = exit {
        return exit;
    }
    summarize(&mut reports, args.json, started);
    #[cfg(feature = "embedded-emulator")]
    if let Some(emulator) = connection.emulator {
        emulator.shutdown().await;
    }
    if cancel.is_cancelled() {
        eprintln!(
            "interrupted: the sessions of files sent in parts are kept; run the same command \
             again to resume them"
        );
        Exit::Interrupted
    } else if reports.iter().all(|r| r.outcome.is_success()) {
        Exit::Success
    } else {
        Exit::SomeFailed
    }
}

/// The resume state, unless uploads go to an emulator that ends with the run.
fn resume_store(args: &Args, connection: &Connection, display: &Display) -> Option<Store> {
    if connection.is_ephemeral() {
        return None;
    }
    match Store::open(args.state_dir.clone()) {
        Ok(store) => Some(store),
        Err(e) => {
            display.say(&format!(
                "warning: {e}; uploads cannot be resumed automatically"
            ));
            None
        }
    }
}

/// Ctrl-C cancels the run; the sessions are kept to resume.
fn watch_ctrl_c(cancel: CancellationToken, display: Display) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            display.say("interrupted: stopping");
            cancel.cancel();
        }
    });
}

/// Finds or creates the folders (parents first), then uploads every file, as many at
/// once as the budget lets through. Fails only when the destination cannot be listed.
async fn upload_tree(
    context: &Context,
    destination: &str,
    plan: Plan,
) -> Result<Vec<FileReport>, String> {
    let client = context.uploader.client().clone();
    let root = folders::list(&client, &context.budget, destination)
        .await
        .map_err(|e| match e.is_unauthorized() {
            true => format!("{e}; check the credentials ({})", context.credentials),
            false => e.to_string(),
        })?;
    let mut slots: HashMap<Vec<String>, FolderSlot> = HashMap::new();
    slots.insert(Vec::new(), Ok((destination.to_string(), Arc::new(root))));
    for path in &plan.folders {
        let (name, parent) = match path.split_last() {
            Some(split) => split,
            None => continue,
        };
        let slot = match slots.get(parent) {
            Some(Ok((parent_id, listing))) => {
                find_or_create(context, parent_id, name, listing, path).await
            }
            Some(Err(error)) => Err(error.clone()),
            None => Err("its parent folder was not planned".into()),
        };
        slots.insert(path.clone(), slot);
    }

    // Files wait for the budget inside the engine; this only bounds how many are open
    // (and hashed) at once.
    let open_files = Arc::new(Semaphore::new(context.budget.available_permits() * 2 + 2));
    let mut tasks = JoinSet::new();
    for file in plan.files {
        let slot = slots
            .get(&file.folder)
            .cloned()
            .unwrap_or_else(|| Err("its folder was not planned".into()));
        let context = context.clone();
        let open_files = open_files.clone();
        tasks.spawn(async move {
            let _open = open_files.acquire().await;
            upload_into(&context, &file, slot).await
        });
    }
    let mut reports = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(report) => reports.push(report),
            Err(e) => return Err(format!("an upload task failed: {e}")),
        }
    }
    Ok(reports)
}

async fn find_or_create(
    context: &Context,
    parent_id: &str,
    name: &str,
    parent: &Listing,
    path: &[String],
) -> FolderSlot {
    let client = context.uploader.client();
    let (id, created) = folders::ensure(client, &context.budget, parent_id, name, parent)
        .await
        .map_err(|e| e.to_string())?;
    if created {
        context
            .display
            .say(&format!("created folder {} ({id})", path.join("/")));
        return Ok((id, Arc::new(Listing::empty())));
    }
    let listing = folders::list(client, &context.budget, &id)
        .await
        .map_err(|e| e.to_string())?;
    Ok((id, Arc::new(listing)))
}

async fn upload_into(context: &Context, file: &LocalFile, slot: FolderSlot) -> FileReport {
    match slot {
        Ok((folder_id, listing)) => {
            let target = Target::Folder {
                folder_id: &folder_id,
                listing: &listing,
            };
            context.upload(file, target).await
        }
        Err(error) => FileReport::failed(
            file.path.clone(),
            file.name.clone(),
            file.size,
            format!("its folder: {error}"),
        ),
    }
}

/// One line per file on stdout (JSON with `--json`), sorted by path, and a total on
/// stderr.
fn summarize(reports: &mut [FileReport], json: bool, started: Instant) {
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    for report in reports.iter() {
        if json {
            println!("{}", report.json());
        } else {
            println!("{}", report.line());
            for note in &report.notes {
                println!("{:<11} {note}", "");
            }
        }
    }
    let count = |outcome: Outcome| reports.iter().filter(|r| r.outcome == outcome).count();
    let sent: u64 = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Uploaded | Outcome::NewVersion))
        .map(|r| r.size)
        .sum();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{} uploaded, {} new versions, {} skipped, {} unchanged, {} failed; {:.1} MB in {:.2} s",
        count(Outcome::Uploaded),
        count(Outcome::NewVersion),
        count(Outcome::Skipped),
        count(Outcome::Unchanged),
        count(Outcome::Failed),
        sent as f64 / 1e6,
        seconds,
    );
}
