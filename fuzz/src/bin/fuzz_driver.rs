//! Companion of the libFuzzer targets, built with stable Rust and no instrumentation. TARGET
//! is one of `medseal_fuzz::TARGETS` (envelope, canon, keys, jws, x509, trust, ledger).
//!
//!   fuzz_driver seed TARGET DIR                write TARGET's seed corpus into DIR
//!   fuzz_driver run TARGET SECONDS CORPUS ARTIFACTS [DICT]
//!       the fallback fuzzer: mutates the corpus (and inputs that reached a new outcome),
//!       inserting the tokens of the libFuzzer dictionary DICT, and feeds it to the target
//!       function for SECONDS; a panic is saved to ARTIFACTS as crash-<hash> and ends the run
//!       with status 1. Not coverage-guided: use libFuzzer (run.sh) whenever it builds.
//!   fuzz_driver replay TARGET FILE...          run the target once on each file

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use medseal_fuzz::Target;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let target = |name: &str| {
        medseal_fuzz::target(name).unwrap_or_else(|| {
            let names: Vec<&str> = medseal_fuzz::TARGETS.iter().map(|t| t.name).collect();
            eprintln!("unknown target {name:?}; targets: {}", names.join(", "));
            std::process::exit(2)
        })
    };
    match args.as_slice() {
        ["seed", name, dir] => seed(target(name), Path::new(dir)),
        ["run", name, seconds, corpus, artifacts, dict @ ..] if dict.len() <= 1 => {
            let seconds: u64 = seconds.parse().expect("SECONDS is a whole number");
            let tokens = dict.first().map(|d| read_dict(Path::new(d))).unwrap_or_default();
            std::process::exit(run(target(name), Duration::from_secs(seconds), Path::new(corpus), Path::new(artifacts), &tokens));
        }
        ["replay", name, files @ ..] => {
            let target = target(name);
            for file in files {
                let data = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
                println!("{file}: signature {:#x}", (target.run)(&data));
            }
        }
        _ => {
            eprintln!("usage: fuzz_driver seed TARGET DIR | run TARGET SECONDS CORPUS ARTIFACTS [DICT] | replay TARGET FILE...");
            std::process::exit(2);
        }
    }
}

fn seed(target: &Target, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let seeds = (target.seeds)();
    for (name, bytes) in &seeds {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
    println!("wrote {} {} seed inputs to {}", seeds.len(), target.name, dir.display());
}

/// The tokens of a libFuzzer dictionary: one `"…"` per line (optionally `name=` before it),
/// with `\\`, `\"` and `\xNN` escapes; `#` lines are comments.
fn read_dict(path: &Path) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut tokens = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (Some(start), Some(end)) = (line.find('"'), line.rfind('"')) else { continue };
        if end <= start {
            continue;
        }
        let body = &line.as_bytes()[start + 1..end];
        let mut token = Vec::new();
        let mut i = 0;
        while i < body.len() {
            match body[i] {
                b'\\' if body.get(i + 1) == Some(&b'x') && i + 3 < body.len() => {
                    let hex = std::str::from_utf8(&body[i + 2..i + 4]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                    token.push(hex.unwrap_or_else(|| panic!("{}: bad \\x escape in {line}", path.display())));
                    i += 4;
                }
                b'\\' if i + 1 < body.len() => {
                    token.push(body[i + 1]);
                    i += 2;
                }
                b => {
                    token.push(b);
                    i += 1;
                }
            }
        }
        tokens.push(token);
    }
    tokens
}

/// xorshift64*: enough for mutation choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[u8] = &[0, 1, 0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x7b, 0x7d, 0x22, 0x5c, 0x7f, 0x80, 0xff, b'A', b'=', b'-', b'_'];
fn mutate(rng: &mut Rng, data: &mut Vec<u8>, pool: &[Vec<u8>], tokens: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(6) {
        let len = data.len();
        match rng.below(11) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            3 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            4 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(32)).min(len);
                data.drain(at..end);
            }
            5 => data.truncate(rng.below(len + 1)),
            6 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                let chunk = data[at..end].to_vec();
                let to = rng.below(len + 1);
                data.splice(to..to, chunk);
            }
            7 if !pool.is_empty() => {
                // Splice: our head, another input's tail.
                let other = &pool[rng.below(pool.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            8 if !tokens.is_empty() => {
                let token = &tokens[rng.below(tokens.len())];
                let at = rng.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
            9 if len > 0 => {
                // A protobuf length or varint off by one.
                let i = rng.below(len);
                data[i] = if rng.below(2) == 0 { data[i].wrapping_add(1) } else { data[i].wrapping_sub(1) };
            }
            _ => {
                let n = rng.below(64);
                *data = (0..n).map(|_| rng.next() as u8).collect();
            }
        }
        if data.len() > 1 << 16 {
            data.truncate(1 << 16);
        }
    }
}

fn run(target: &Target, duration: Duration, corpus: &Path, artifacts: &Path, tokens: &[Vec<u8>]) -> i32 {
    let mut pool: Vec<Vec<u8>> = std::fs::read_dir(corpus)
        .map(|dir| dir.filter_map(|e| e.ok()).filter_map(|e| std::fs::read(e.path()).ok()).collect())
        .unwrap_or_default();
    if pool.is_empty() {
        pool = (target.seeds)().into_iter().map(|(_, bytes)| bytes).collect();
    }
    let seeds = pool.len();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1;
    let mut rng = Rng(seed);
    let mut signatures = HashSet::new();
    let start = Instant::now();
    let mut last_report = start;
    let mut execs: u64 = 0;
    println!(
        "stable driver: target {}, {seeds} corpus inputs, {} dictionary tokens, {} s, rng seed {seed:#x}",
        target.name,
        tokens.len(),
        duration.as_secs()
    );
    // Run the corpus itself first.
    for input in pool.clone() {
        if let Some(status) = execute(target, &input, artifacts, &mut signatures, &mut execs).err() {
            return status;
        }
    }
    while start.elapsed() < duration {
        let mut input = pool[rng.below(pool.len())].clone();
        mutate(&mut rng, &mut input, &pool, tokens);
        match execute(target, &input, artifacts, &mut signatures, &mut execs) {
            Ok(true) if pool.len() < 50_000 => pool.push(input),
            Ok(_) => {}
            Err(status) => return status,
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            println!("#{execs} {:.0}s exec/s {:.0} pool {} outcomes {}", secs, execs as f64 / secs, pool.len(), signatures.len());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "stable driver done: {execs} executions in {secs:.0} s ({:.0}/s), {} distinct outcomes, pool {} ({} seeds), no crash",
        execs as f64 / secs,
        signatures.len(),
        pool.len(),
        seeds
    );
    0
}

/// Runs one input. Ok(new outcome?) or Err(exit status) after saving a crash.
fn execute(target: &Target, input: &[u8], artifacts: &Path, signatures: &mut HashSet<u32>, execs: &mut u64) -> Result<bool, i32> {
    *execs += 1;
    match catch_unwind(AssertUnwindSafe(|| (target.run)(input))) {
        Ok(signature) => Ok(signatures.insert(signature)),
        Err(_) => {
            std::fs::create_dir_all(artifacts).ok();
            let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
            let path = artifacts.join(format!("crash-{hash:016x}"));
            std::fs::write(&path, input).ok();
            eprintln!(
                "CRASH after {execs} executions: input saved to {} (replay: fuzz_driver replay {} FILE)",
                path.display(),
                target.name
            );
            Err(1)
        }
    }
}
