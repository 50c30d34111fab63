//! Format: parse the emitted tokens with syn, print them with prettyplease, and put
//! the "do not edit" header on top.

use proc_macro2::TokenStream;

use crate::error::Error;

/// Formats one emitted file. `header` is the first comment lines, without `// `.
pub fn format_file(file: &str, tokens: TokenStream, header: &[String]) -> Result<String, Error> {
    let syntax: syn::File = syn::parse2(tokens).map_err(|e| Error::Emit {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    let mut out = String::new();
    for line in header {
        out.push_str("// ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&prettyplease::unparse(&syntax));
    // The printer can write what does not lex (a doc string with a bare CR becomes a
    // `///` comment holding it): check, so such a bug is an error, not broken output.
    syn::parse_file(&out).map_err(|e| Error::Emit {
        file: file.to_owned(),
        message: format!("the formatted text does not parse: {e}"),
    })?;
    Ok(out)
}
