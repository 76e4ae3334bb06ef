//! The C ABI's committed headers and construction rules.
//!
//! * `include/medseal.h` is what cbindgen (pinned in Cargo.toml) generates now;
//! * `include/medseal_ffi.h` is the same declarations without preprocessor lines or comments,
//!   for PHP FFI and Python cffi, which cannot read macros;
//! * every `extern "C"` function in src/ is made by `#[ffi_export]` (the panic boundary).
//!
//! Run `make headers` (MEDSEAL_BLESS=1 cargo test --test abi) to regenerate the headers.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate_header() -> String {
    let config = cbindgen::Config::from_file(root().join("cbindgen.toml")).expect("cbindgen.toml parses");
    let mut out = Vec::new();
    cbindgen::Builder::new().with_crate(root()).with_config(config).generate().expect("cbindgen generates the header").write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

/// The macro-free header: the declarations a C11 compiler (not C++) sees, without any
/// preprocessor line or comment. cbindgen emits only a few kinds of conditionals; an unknown
/// one fails the test rather than being guessed.
fn ffi_header(full: &str) -> String {
    fn condition(line: &str) -> bool {
        match line {
            "#ifndef MEDSEAL_H" | "#ifndef __cplusplus" => true,
            "#ifdef __cplusplus" | "#if __STDC_VERSION__ >= 202311L" => false,
            l if l.starts_with("#if defined(__cplusplus)") => false,
            other => panic!("unexpected preprocessor conditional in medseal.h: {other}"),
        }
    }
    let mut out = String::new();
    let mut branches: Vec<bool> = Vec::new();
    for line in full.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("#if") {
            branches.push(condition(trimmed));
        } else if trimmed.starts_with("#else") {
            let last = branches.last_mut().expect("#else inside #if");
            *last = !*last;
        } else if trimmed.starts_with("#endif") {
            branches.pop().expect("#endif closes an #if");
        } else if trimmed.starts_with('#') || trimmed.starts_with("//") || trimmed.starts_with("/*") || trimmed.starts_with('*') {
            // #define, #include and comments: not for FFI parsers.
        } else if branches.iter().all(|active| *active) && !(trimmed.is_empty() && (out.is_empty() || out.ends_with("\n\n"))) {
            out.push_str(line);
            out.push('\n');
        }
    }
    format!("/* medseal: macro-free declarations for PHP FFI and cffi. Generated from medseal.h; do not edit. */\n{out}")
}

fn check(path: &Path, expected: &str) {
    if std::env::var_os("MEDSEAL_BLESS").is_some() {
        fs::write(path, expected).expect("write header");
        return;
    }
    let committed = fs::read_to_string(path).unwrap_or_default();
    assert!(committed == expected, "{} differs from what the sources generate; run `make headers` and commit it", path.display());
}

#[test]
fn headers_match_the_sources() {
    let full = generate_header();
    assert!(full.contains("medseal_canonicalize"), "the generator saw the exports");
    for line in full.lines().filter(|l| l.starts_with("#define ")) {
        assert!(line.starts_with("#define MEDSEAL_"), "a constant outside the medseal namespace leaked into the header: {line}");
    }
    for line in full.lines().filter(|l| l.starts_with("typedef struct ")) {
        assert!(line.starts_with("typedef struct medseal_"), "a Rust type leaked into the header: {line}");
    }
    check(&root().join("include/medseal.h"), &full);
    let ffi = ffi_header(&full);
    assert!(!ffi.lines().any(|l| l.trim_start().starts_with('#')), "no preprocessor lines");
    check(&root().join("include/medseal_ffi.h"), &ffi);
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_extern_c_function_is_made_by_the_export_macro() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut exports = 0;
    for file in files {
        let source = fs::read_to_string(&file).expect("read source");
        let lines: Vec<&str> = source.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            // Function definitions only: `extern "C" fn(` is a function-pointer type (callbacks).
            if !line.contains("extern \"C\" fn") || line.contains("extern \"C\" fn(") {
                continue;
            }
            // Walk up over attributes and doc comments to find #[ffi_export].
            let attrs = lines[..i].iter().rev().take_while(|l| {
                let t = l.trim_start();
                t.starts_with("#[") || t.starts_with("///")
            });
            let made_by_macro = attrs.into_iter().any(|l| l.trim_start().starts_with("#[ffi_export"));
            assert!(made_by_macro, "{}:{}: extern \"C\" function without #[ffi_export]", file.display(), i + 1);
            exports += 1;
        }
    }
    assert!(exports >= 30, "found only {exports} exports; the scan is broken");
}

#[test]
fn header_declares_every_result_code_with_its_value() {
    let header = fs::read_to_string(root().join("include/medseal.h")).expect("header");
    for code in medseal::ResultCode::ALL {
        let decl = format!("{} = {},", code.name(), *code as i32);
        assert!(header.contains(&decl), "medseal.h lacks `{decl}`");
    }
    // And the reverse: ResultCode::ALL (which names and describes codes) misses none.
    let block = &header[header.find("enum medseal_result").expect("result enum")..];
    let block = &block[..block.find("};").expect("enum end")];
    let declared = block.lines().filter(|l| l.trim_start().starts_with("MEDSEAL_")).count();
    assert_eq!(declared, medseal::ResultCode::ALL.len(), "ResultCode::ALL is missing a code");
}
