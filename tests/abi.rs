//! The C ABI's committed headers and construction rules.
//!
//! * `include/medseal.h` is what cbindgen (pinned in Cargo.toml) generates now;
//! * `include/medseal_ffi.h` is the same declarations without preprocessor lines or comments,
//!   for PHP FFI and Python cffi, which cannot read macros;
//! * every `extern "C"` function in src/ is made by `#[ffi_export]` (the panic boundary);
//! * every export follows the naming rule of docs/ARCHITECTURE.md ("C ABI version 1"):
//!   `medseal_<T>_<verb>` with `T` the handle type it takes first or creates, else a family;
//!   `X_builder_build` creates `X`, `X_free` takes `X`, `X_new` creates `X`; and no name that
//!   ABI 1 replaced comes back.
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

/// Whether this run rewrites the headers: only `MEDSEAL_BLESS=1` (what `make headers` sets). An
/// empty or other value (`MEDSEAL_BLESS=`, `=0`, `=false`, left over in a shell or a CI
/// variable) keeps the drift check a check.
fn blessing(value: Option<&std::ffi::OsStr>) -> bool {
    value == Some(std::ffi::OsStr::new("1"))
}

#[test]
fn only_medseal_bless_1_rewrites_the_headers() {
    assert!(blessing(Some(std::ffi::OsStr::new("1"))));
    for value in [None, Some(""), Some("0"), Some("false"), Some("yes"), Some(" 1"), Some("1 ")] {
        assert!(!blessing(value.map(std::ffi::OsStr::new)), "MEDSEAL_BLESS={value:?} must not bless");
    }
}

fn check(path: &Path, expected: &str) {
    if blessing(std::env::var_os("MEDSEAL_BLESS").as_deref()) {
        fs::write(path, expected).expect("write header");
        return;
    }
    let committed = fs::read_to_string(path).unwrap_or_default();
    assert!(committed == expected, "{} differs from what the sources generate; run `make headers` and commit it", path.display());
}

#[test]
fn headers_match_the_sources() {
    let full = generate_header();
    assert!(full.contains("medseal_json_canonicalize"), "the generator saw the exports");
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

/// One function declaration of the macro-free header: its name and its parameters' types.
struct Declaration {
    name: String,
    params: Vec<String>,
}

/// The handle types (`typedef struct medseal_T medseal_T;`, as `T`) and the functions of a
/// macro-free header (cbindgen writes one declaration per line).
fn declarations(header: &str) -> (Vec<String>, Vec<Declaration>) {
    let mut handles = Vec::new();
    let mut functions = Vec::new();
    for line in header.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("typedef struct medseal_") {
            let name = rest.split_whitespace().next().expect("typedef name");
            handles.push(name.to_owned());
        } else if line.ends_with(");") && !line.starts_with("typedef") {
            let open = line.find('(').expect("parameter list");
            let name = line[..open].rsplit(|c: char| c.is_whitespace() || c == '*').next().expect("name").to_owned();
            let inside = &line[open + 1..line.len() - 2];
            let params = if inside == "void" { Vec::new() } else { inside.split(", ").map(str::to_owned).collect() };
            functions.push(Declaration { name, params });
        }
    }
    (handles, functions)
}

/// `T` when `param` is one handle `[const] struct medseal_T *name` (not an array of handles).
fn handle_param(param: &str, pointers: &str, handles: &[String]) -> Option<String> {
    let rest = param.trim_start_matches("const ").strip_prefix("struct medseal_")?;
    let (ty, after) = rest.split_once(' ')?;
    // What stands between the type and the parameter's name: `*`, `**`, or `*const *` (an array).
    let declarator: String = after[..after.rfind('*').map_or(0, |i| i + 1)].chars().filter(|c| !c.is_whitespace()).collect();
    (declarator == pointers && handles.iter().any(|h| h == ty)).then(|| ty.to_owned())
}

/// Families of the functions that neither take nor create a handle, besides the handle types.
const FAMILIES: &[&str] = &["abi", "library", "json", "last_error", "result", "ledger"];

/// The naming rule of docs/ARCHITECTURE.md ("The C ABI"): every problem found, one line each,
/// naming the function and the prefix it should have.
fn naming_problems(header: &str) -> Vec<String> {
    let (handles, functions) = declarations(header);
    let mut problems = Vec::new();
    for f in &functions {
        let Some(rest) = f.name.strip_prefix("medseal_") else {
            problems.push(format!("{}: every export starts with `medseal_`", f.name));
            continue;
        };
        // The handle type its name says (longest match), and the ones it takes first or creates.
        let named = handles.iter().filter(|h| rest.starts_with(&format!("{h}_"))).max_by_key(|h| h.len());
        let first = f.params.first().and_then(|p| handle_param(p, "*", &handles));
        let created: Vec<String> = f.params.iter().filter_map(|p| handle_param(p, "**", &handles)).filter(|t| t != "buffer").collect();
        let mut allowed: Vec<String> = first.iter().cloned().collect();
        allowed.extend(created.iter().cloned());
        let prefixes = |types: &[String]| types.iter().map(|t| format!("medseal_{t}_")).collect::<Vec<_>>().join(" or ");
        if !allowed.is_empty() {
            if !named.is_some_and(|n| allowed.contains(n)) {
                let why = match (&first, created.is_empty()) {
                    (Some(t), true) => format!("its first parameter is a medseal_{t}"),
                    (None, false) => format!("it creates a medseal_{}", created.join(", medseal_")),
                    _ => format!(
                        "it takes a medseal_{} first and creates a medseal_{}",
                        first.as_deref().unwrap_or(""),
                        created.join(", medseal_")
                    ),
                };
                problems.push(format!("{}: expected the prefix {} ({why})", f.name, prefixes(&allowed)));
            }
        } else if named.is_none() && !FAMILIES.iter().any(|family| rest.starts_with(&format!("{family}_"))) {
            let families: Vec<String> = FAMILIES.iter().map(|f| format!("medseal_{f}_")).collect();
            problems.push(format!(
                "{}: expected the prefix of a handle type (medseal_<type>_) or of a family ({}): it neither takes nor creates a handle",
                f.name,
                families.join(", ")
            ));
        }
        // Verbs with a fixed meaning.
        if let Some(x) = rest.strip_suffix("_builder_build") {
            if created != [x] {
                problems.push(format!("{}: a builder's _build creates the type its name says: expected the prefix medseal_{}_builder_ for a function creating medseal_{}", f.name, created.join(""), created.join("")));
            }
        }
        if let Some(x) = rest.strip_suffix("_free") {
            if first.as_deref() != Some(x) {
                problems.push(format!(
                    "{}: _free takes its own type: expected the prefix {}",
                    f.name,
                    prefixes(&first.iter().cloned().collect::<Vec<_>>())
                ));
            }
        }
        if let Some(x) = rest.strip_suffix("_new") {
            if !created.iter().any(|t| t == x) {
                problems.push(format!("{}: _new creates its own type: expected the prefix {}", f.name, prefixes(&created)));
            }
        }
    }
    problems
}

/// Names of ABI 0 that version 1 renamed: none may come back (the ABI is append-only). Some
/// pass the rule's letter (`medseal_outbox_status` read as outbox + verb `status`) but now
/// name something else (the status type), so they are listed here.
const OLD_NAMES: &[&str] = &[
    "medseal_version",
    "medseal_canonicalize",
    "medseal_kid_bytes",
    "medseal_max_signature_bytes",
    "medseal_seal",
    "medseal_seal_into",
    "medseal_seal_signed",
    "medseal_open_into",
    "medseal_tree_head_verify",
    "medseal_outbox_enqueue",
    "medseal_outbox_status",
];
const OLD_PREFIXES: &[&str] = &["medseal_outbox_summary", "medseal_transport_config_builder"];

#[test]
fn every_export_follows_the_naming_rule() {
    // What the sources declare now (headers_match_the_sources keeps include/ equal to it).
    let header = ffi_header(&generate_header());
    let (handles, functions) = declarations(&header);
    assert!(handles.len() >= 15 && handles.contains(&"transport_builder".to_owned()), "handle typedefs parsed: {handles:?}");
    // Every export of the sources is in the header, and so under the rule.
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut exported = Vec::new();
    for file in files {
        let source = fs::read_to_string(&file).expect("read source");
        for line in source.lines() {
            if let Some((_, rest)) = line.split_once("extern \"C\" fn ") {
                if let Some((name, _)) = rest.split_once('(') {
                    exported.push(name.to_owned());
                }
            }
        }
    }
    let declared: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    assert!(exported.len() >= 140, "found only {} exports in src/; the scan is broken", exported.len());
    for name in &exported {
        assert!(declared.contains(&name.as_str()), "{name} is exported but cbindgen does not declare it");
    }
    assert_eq!(declared.len(), exported.len(), "the header declares functions the sources do not export");
    let problems = naming_problems(&header);
    assert!(problems.is_empty(), "exports breaking the naming rule:\n{}", problems.join("\n"));
    // The names ABI 1 replaced are gone for good.
    for old in OLD_NAMES {
        assert!(!declared.contains(old), "{old} is an ABI 0 name; ABI 1 renamed it");
    }
    for name in declared.iter().copied().chain(handles.iter().map(String::as_str)) {
        let name = name.strip_prefix("medseal_").unwrap_or(name);
        for old in OLD_PREFIXES {
            let old = old.strip_prefix("medseal_").expect("prefix");
            assert!(
                name != old && !name.starts_with(&format!("{old}_")),
                "medseal_{name} uses medseal_{old}, an ABI 0 name that ABI 1 renamed"
            );
        }
    }
}

/// The checker itself finds each kind of bad name (so a passing rule test means something).
#[test]
fn the_naming_rule_check_refuses_bad_names() {
    let header = "\
typedef struct medseal_buffer medseal_buffer;
typedef struct medseal_envelope medseal_envelope;
typedef struct medseal_meta medseal_meta;
typedef struct medseal_outbox medseal_outbox;
typedef struct medseal_outbox_status medseal_outbox_status;
typedef struct medseal_transport medseal_transport;
typedef struct medseal_transport_builder medseal_transport_builder;
typedef struct medseal_transport_config_builder medseal_transport_config_builder;
medseal_result medseal_seal(const struct medseal_meta *meta, const uint8_t *p, size_t len, struct medseal_buffer **out);
medseal_result medseal_outbox_status(const struct medseal_outbox *outbox, struct medseal_outbox_status **out);
medseal_result medseal_outbox_status_summary(const struct medseal_outbox *outbox, uint64_t *count);
medseal_result medseal_canonicalize(const uint8_t *json, size_t len, struct medseal_buffer **out);
medseal_result medseal_transport_config_builder_build(const struct medseal_transport_config_builder *b, struct medseal_transport **out);
void medseal_meta_free(struct medseal_outbox *outbox);
medseal_result medseal_meta_new(const uint8_t *id, size_t len, struct medseal_outbox **out);
const char *version(void);
medseal_result medseal_outbox_get_status(const struct medseal_outbox *outbox, struct medseal_outbox_status **out);
medseal_result medseal_envelope_seal(const uint8_t *p, size_t len, const struct medseal_meta *meta, struct medseal_buffer **out);
medseal_result medseal_transport_builder_build(const struct medseal_transport_builder *b, struct medseal_transport **out);
medseal_result medseal_json_canonicalize(const uint8_t *json, size_t len, struct medseal_buffer **out);
";
    let problems = naming_problems(header);
    let expect = [
        "medseal_seal: expected the prefix medseal_meta_ (its first parameter is a medseal_meta)",
        "medseal_outbox_status_summary: expected the prefix medseal_outbox_ (its first parameter is a medseal_outbox)",
        "medseal_canonicalize: expected the prefix of a handle type",
        "medseal_transport_config_builder_build: a builder's _build creates the type its name says",
        "medseal_meta_free: expected the prefix medseal_outbox_",
        "medseal_meta_free: _free takes its own type: expected the prefix medseal_outbox_",
        "medseal_meta_new: expected the prefix medseal_outbox_ (it creates a medseal_outbox)",
        "medseal_meta_new: _new creates its own type: expected the prefix medseal_outbox_",
        "version: every export starts with `medseal_`",
    ];
    for e in expect {
        assert!(problems.iter().any(|p| p.starts_with(e)), "the check missed `{e}`; it found:\n{}", problems.join("\n"));
    }
    assert_eq!(problems.len(), expect.len(), "the good names pass, and nothing else is found:\n{}", problems.join("\n"));
}
