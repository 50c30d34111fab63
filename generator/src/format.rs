//! Format: parse the emitted tokens with syn, print them with prettyplease, and put
//! the "do not edit" header on top.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use proc_macro2::TokenStream;

use crate::emit::{Unit, units};
use crate::error::Error;
use crate::ir::Api;

/// Formats one emitted file. `header` is the first comment lines, without `// `.
pub fn format_file(file: &str, tokens: TokenStream, header: &[String]) -> Result<String, Error> {
    let mut out = header_text(header);
    out.push_str(&print(file, tokens)?);
    Ok(out)
}

/// Emits and formats every output file, the [`units`] of the files spread over up to
/// `threads` threads. The files do not depend on `threads`: prettyplease lays out each
/// top-level item on its own (a hard break before the next), so a file printed in
/// slices is the file printed whole, and the slices are joined in their order.
pub fn format_api(
    api: &Api,
    header: &[String],
    threads: usize,
) -> Result<BTreeMap<String, String>, Error> {
    let units = units(api);
    // The biggest units start first, so that no thread is left with one at the end.
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(units[i].weight(api)));
    let printed: Vec<Mutex<Option<Result<String, Error>>>> =
        units.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let unit: &Unit = &units[i];
            let text = print(unit.file, unit.emit(api));
            if let Ok(mut slot) = printed[i].lock() {
                *slot = Some(text);
            }
        }
    };
    let threads = threads.clamp(1, units.len().max(1));
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });

    let mut files = BTreeMap::new();
    for (unit, slot) in units.iter().zip(printed) {
        let text = slot.into_inner().ok().flatten().unwrap_or_else(|| {
            Err(Error::Emit {
                file: unit.file.to_owned(),
                message: "a formatting thread stopped".into(),
            })
        })?;
        files
            .entry(unit.file.to_owned())
            .or_insert_with(|| header_text(header))
            .push_str(&text);
    }
    Ok(files)
}

fn header_text(header: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        out.push_str("// ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Parses tokens as a file and prints them.
fn print(file: &str, tokens: TokenStream) -> Result<String, Error> {
    let syntax: syn::File = syn::parse2(tokens).map_err(|e| Error::Emit {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    let text = prettyplease::unparse(&syntax);
    // The printer writes doc strings as `///` comments as they are, so a bare CR in one
    // gives text that does not lex (emit escapes them; this catches any that slip through).
    // Generated code has no other CR: literals spell it `\r`. A full re-parse would catch
    // more but costs as much as the parse above; the fuzz tests do it.
    if let Some(at) = text.find('\r') {
        return Err(Error::Emit {
            file: file.to_owned(),
            message: format!(
                "the formatted text holds a carriage return at byte {at}, which would not lex"
            ),
        });
    }
    Ok(text)
}
