//! The import layers of `src/`: no module imports one above it, and no two
//! files import each other in a circle.
//!
//! How the imports are read (no compiler, no dependency: the source text only):
//! every `use` tree and every path written in the code (`crate::a::b`,
//! `super::x`, `self::y`, `hijack_harness::z`, a child module's `child::f`, a
//! name a `use` bound, as in `use crate::runner::black_box;` then
//! `black_box::docker::inspect`) is resolved to the deepest file it names; a
//! name that file only re-exports (`pub use inner::Name`) is followed to the
//! file that defines it. Comments, string literals and `#[cfg(test)]` items
//! are left out. An arrow A -> B means "a path in A resolves into B".
//!
//! A circle is a set of files that reach each other by arrows. A file's arrow to
//! the module that contains it (`super::Name` in `plan.rs` to `black_box/mod.rs`)
//! closes none: a child module is part of its parent. Its parent's arrow to it,
//! and every arrow between siblings, counts.
//!
//! Run `cargo test --test layers -- --nocapture` to see every arrow that breaks
//! a rule, with the names it takes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors of `src/`, from the ground up: a module may import its own floor's
/// and lower floors' modules, never a higher floor's. Two modules on one floor
/// may import each other only where the cycle check allows it (no circle of files).
///
/// | floor | modules | what they are |
/// |-------|---------|---------------|
/// | 0 | `reference`, `websocket`, `heap` | codecs and helpers: HTTP heads, the hand-over, RFC 6455 frames; the allocator's thresholds |
/// | 1 | `scenario` | one generated case: what each side sends, where the wire cuts |
/// | 2 | `suite` | the named conformance cases, built of scenarios |
/// | 3 | `wire` | transports, traces and their text form |
/// | 4 | `subject`, `peer` | what is tested, and the harness's own scripted peers |
/// | 5 | `oracle` | the invariant and its verdicts |
/// | 6 | `results` | outcomes, case results, the run record |
/// | 7 | `check`, `properties`, `counterexample`, `fuzzing` | one run, many runs, a failure told, fuzzing |
/// | 8 | `report` | rendering: text, JSON, JUnit, HTML |
/// | 9 | `runner`, `docker` | the conformance runs over loopback, embedded and black-box |
/// | 10 | `inspect` | one case looked at closely (the `trace` command) |
/// | 11 | `cli` | the command line (the binary) |
const FLOORS: &[(&str, u8)] = &[
    ("invariant", 0),
    ("reference", 0),
    ("websocket", 0),
    ("stdcopy", 0),
    ("heap", 0),
    ("scenario", 1),
    ("suite", 2),
    ("wire", 3),
    ("subject", 4),
    ("peer", 4),
    ("oracle", 5),
    ("results", 6),
    ("check", 7),
    ("properties", 7),
    ("counterexample", 7),
    ("fuzzing", 7),
    ("report", 8),
    ("runner", 9),
    ("inspect", 10),
    ("cli", 11),
];

/// Upward imports allowed for now, each as (importing file, imported top-level
/// module, why it is still here): none today, and a new one needs its reason
/// written here. The test fails on an upward import that is not listed, and on
/// an entry that no longer matches any import (delete it then).
const ALLOWED_UPWARD: &[(&str, &str, &str)] = &[];

/// One file of `src/`: its module path and its cleaned text.
struct File {
    /// `src/...`, with `/` separators.
    path: String,
    /// The module path (`["runner", "black_box", "plan"]`); empty for the crate roots.
    module: Vec<String>,
    /// The code without comments, literals and `#[cfg(test)]` items.
    code: String,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are module `a::b`; `lib.rs` and `main.rs`
/// are the roots (the binary's `cli` shares the namespace: no name collides).
fn module_of(relative: &str) -> Vec<String> {
    let trimmed = relative.trim_end_matches(".rs");
    let mut segments: Vec<String> = trimmed.split('/').map(str::to_string).collect();
    if segments.last().is_some_and(|s| s == "mod") {
        segments.pop();
    }
    if segments.len() == 1 && (segments[0] == "lib" || segments[0] == "main") {
        segments.clear();
    }
    segments
}

/// The code with comments, string and char literals blanked (newlines kept).
fn strip_comments_and_literals(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if (c == 'r' || c == 'b')
            && !chars
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
            && raw_string_start(&chars, i).is_some()
        {
            let (hashes, open) = raw_string_start(&chars, i).unwrap_or((0, i));
            let mut j = open + 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if chars.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if next == Some('\\') {
                // Past the backslash and the escaped character (`'\''` too).
                let mut j = i + 3;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// At `r"`, `r#"`, `br"`, `br#"`: the number of `#` and the index of the `"`.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if chars[j] == 'b' {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some((hashes, j))
}

/// Removes every item under `#[cfg(test)]`; returns the names of the test
/// modules declared in files of their own (`#[cfg(test)] mod tests;`).
fn strip_test_items(code: &str) -> (String, Vec<String>) {
    let mut out = code.to_string();
    let mut test_modules = Vec::new();
    while let Some(at) = out.find("#[cfg(test)]") {
        let rest = &out[at..];
        let end = match (rest.find('{'), rest.find(';')) {
            (Some(brace), semi) if semi.is_none_or(|s| brace < s) => {
                let mut depth = 0;
                let mut end = rest.len();
                for (k, ch) in rest.char_indices().skip(brace) {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (_, Some(semi)) => {
                let item = &rest["#[cfg(test)]".len()..semi];
                let words: Vec<&str> = item.split_whitespace().collect();
                if let [.., "mod", name] = words.as_slice() {
                    test_modules.push((*name).to_string());
                }
                semi + 1
            }
            _ => rest.len(),
        };
        out.replace_range(at..at + end, " ");
    }
    (out, test_modules)
}

/// A token of the cleaned code: a word or one punctuation mark (`::` is one).
fn tokens(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// One path a `use` tree names: its segments and the name it binds (`None` for a glob).
struct UsePath {
    segments: Vec<String>,
    binds: Option<String>,
}

/// Expands the use tree in `toks` starting at `i` (after `use`), up to `;`.
fn use_tree(toks: &[String], i: &mut usize, prefix: &[String], out: &mut Vec<UsePath>) {
    let mut segments = prefix.to_vec();
    while *i < toks.len() {
        let t = toks[*i].as_str();
        match t {
            "::" => *i += 1,
            "{" => {
                *i += 1;
                loop {
                    use_tree(toks, i, &segments, out);
                    match toks.get(*i).map(String::as_str) {
                        Some(",") => *i += 1,
                        Some("}") => {
                            *i += 1;
                            return;
                        }
                        _ => return,
                    }
                    if toks.get(*i).map(String::as_str) == Some("}") {
                        *i += 1;
                        return;
                    }
                }
            }
            "*" => {
                *i += 1;
                out.push(UsePath {
                    segments,
                    binds: None,
                });
                return;
            }
            "as" => {
                let alias = toks.get(*i + 1).cloned();
                *i += 2;
                out.push(UsePath {
                    segments,
                    binds: alias,
                });
                return;
            }
            "," | "}" | ";" => {
                let binds = segments.last().cloned();
                let binds = if binds.as_deref() == Some("self") {
                    segments.pop();
                    segments.last().cloned()
                } else {
                    binds
                };
                out.push(UsePath { segments, binds });
                return;
            }
            word => {
                segments.push(word.to_string());
                *i += 1;
            }
        }
    }
}

/// A file's imports, before resolution.
struct Imports {
    /// Every path the file's `use` trees name, with its visibility.
    uses: Vec<(UsePath, bool)>,
    /// Paths written in the code (`a::b::c`, two segments or more).
    inline: Vec<Vec<String>>,
    /// Child modules declared here (`mod x;` or `mod x { .. }`).
    children: Vec<String>,
}

fn imports(code: &str) -> Imports {
    let toks = tokens(code);
    let mut uses = Vec::new();
    let mut inline = Vec::new();
    let mut children = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].as_str();
        if t == "use" && toks.get(i + 1).is_some_and(|n| n != "::" && n != "(") {
            let public = i > 0
                && (toks[i - 1] == "pub" || (toks[i - 1] == ")" && i >= 4 && toks[i - 4] == "pub"));
            i += 1;
            let mut found = Vec::new();
            use_tree(&toks, &mut i, &[], &mut found);
            uses.extend(found.into_iter().map(|u| (u, public)));
            continue;
        }
        if t == "mod" && toks.get(i + 2).is_some_and(|n| n == ";" || n == "{") {
            children.push(toks[i + 1].clone());
        }
        let starts_path = (t
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_'))
            && toks.get(i + 1).is_some_and(|n| n == "::")
            && !(i > 0 && toks[i - 1] == "::");
        if starts_path {
            let mut path = vec![t.to_string()];
            let mut j = i + 1;
            while toks.get(j).is_some_and(|n| n == "::")
                && toks.get(j + 1).is_some_and(|n| {
                    n.chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_')
                })
            {
                path.push(toks[j + 1].clone());
                j += 2;
            }
            if path.len() > 1 {
                inline.push(path);
            }
            i = j;
            continue;
        }
        i += 1;
    }
    Imports {
        uses,
        inline,
        children,
    }
}

/// The graph of `src/`: files, and for each the files it imports with the names.
struct Graph {
    files: Vec<File>,
    /// importing file index -> imported file index -> names taken.
    arrows: BTreeMap<usize, BTreeMap<usize, BTreeSet<String>>>,
}

fn read_graph() -> Graph {
    let src = src_dir();
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let mut files = Vec::new();
    let mut test_files: BTreeSet<Vec<String>> = BTreeSet::new();
    for path in paths {
        let relative = path
            .strip_prefix(&src)
            .expect("under src/")
            .to_string_lossy()
            .replace('\\', "/");
        let source = std::fs::read_to_string(&path).expect("a readable source file");
        let (code, tests) = strip_test_items(&strip_comments_and_literals(&source));
        let module = module_of(&relative);
        for t in tests {
            let mut m = module.clone();
            m.push(t);
            test_files.insert(m);
        }
        files.push(File {
            path: format!("src/{relative}"),
            module,
            code,
        });
    }
    files.retain(|f| !test_files.contains(&f.module));
    let by_module: BTreeMap<Vec<String>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.clone(), i))
        .collect();
    let parsed: Vec<Imports> = files.iter().map(|f| imports(&f.code)).collect();

    // The absolute path each `use` names, per file.
    let absolute = |file: usize, segments: &[String]| -> Option<Vec<String>> {
        let module = &files[file].module;
        let first = segments.first()?.as_str();
        let mut base: Vec<String> = match first {
            "crate" | "hijack_harness" => Vec::new(),
            "self" => module.clone(),
            "super" => module.clone(),
            _ if parsed[file].children.iter().any(|c| c == first) => module.clone(),
            _ => return None,
        };
        let mut rest = segments;
        if first == "crate" || first == "hijack_harness" || first == "self" {
            rest = &segments[1..];
        }
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
        base.extend(rest.iter().cloned());
        Some(base)
    };
    // Re-exports: file -> name -> absolute path.
    let mut reexports: Vec<BTreeMap<String, Vec<String>>> = vec![BTreeMap::new(); files.len()];
    // Names bound by `use`: file -> name -> absolute path.
    let mut bound: Vec<BTreeMap<String, Vec<String>>> = vec![BTreeMap::new(); files.len()];
    for (i, imports) in parsed.iter().enumerate() {
        for (u, public) in &imports.uses {
            let (Some(abs), Some(name)) = (absolute(i, &u.segments), u.binds.clone()) else {
                continue;
            };
            if *public {
                reexports[i].insert(name.clone(), abs.clone());
            }
            bound[i].insert(name, abs);
        }
    }
    // The file a path leads into (the deepest module file on it), following re-exports.
    let resolve = |path: &[String]| -> Option<(usize, String)> {
        let mut path = path.to_vec();
        for _ in 0..8 {
            let (depth, file) = (0..=path.len())
                .rev()
                .find_map(|d| by_module.get(&path[..d]).map(|f| (d, *f)))?;
            let name = path.get(depth).cloned().unwrap_or_default();
            match reexports[file].get(&name) {
                Some(target) if !name.is_empty() => {
                    let mut next = target.clone();
                    next.extend(path[depth + 1..].iter().cloned());
                    path = next;
                }
                _ => return Some((file, name)),
            }
        }
        None
    };
    let mut arrows: BTreeMap<usize, BTreeMap<usize, BTreeSet<String>>> = BTreeMap::new();
    for (i, imports) in parsed.iter().enumerate() {
        let mut targets: Vec<Vec<String>> = Vec::new();
        for (u, _) in &imports.uses {
            targets.extend(absolute(i, &u.segments));
        }
        for path in &imports.inline {
            if let Some(abs) = absolute(i, path) {
                targets.push(abs);
            } else if let Some(base) = bound[i].get(&path[0]) {
                let mut abs = base.clone();
                abs.extend(path[1..].iter().cloned());
                targets.push(abs);
            }
        }
        for target in targets {
            if let Some((file, name)) = resolve(&target)
                && file != i
            {
                arrows
                    .entry(i)
                    .or_default()
                    .entry(file)
                    .or_default()
                    .extend((!name.is_empty()).then_some(name));
            }
        }
    }
    Graph { files, arrows }
}

fn floor(module: &[String]) -> Option<u8> {
    let top = module.first()?;
    FLOORS
        .iter()
        .find(|(name, _)| name == top)
        .map(|(_, floor)| *floor)
}

/// Every upward arrow: (importing file, imported file, its top module, names).
fn upward(graph: &Graph) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for (from, targets) in &graph.arrows {
        let a = &graph.files[*from];
        for (to, names) in targets {
            let b = &graph.files[*to];
            if let (Some(fa), Some(fb)) = (floor(&a.module), floor(&b.module))
                && fb > fa
            {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                out.push((
                    a.path.clone(),
                    b.path.clone(),
                    b.module[0].clone(),
                    names.join(", "),
                ));
            }
        }
    }
    out
}

/// The circles: strongly connected sets of two files or more (Tarjan).
fn circles(graph: &Graph) -> Vec<Vec<usize>> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            let targets: Vec<usize> = self
                .graph
                .arrows
                .get(&v)
                .map(|t| t.keys().copied().collect())
                .unwrap_or_default();
            for w in targets {
                // A file inside a module takes from that module (`super::`)
                // as part of it: an arrow to an ancestor closes no circle.
                let (from, to) = (&self.graph.files[v].module, &self.graph.files[w].module);
                if to.len() < from.len() && from.starts_with(to) {
                    continue;
                }
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let n = graph.files.len();
    let mut t = Tarjan {
        graph,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.out
}

/// The arrows inside one circle, one line each.
fn describe_circle(graph: &Graph, circle: &[usize]) -> String {
    let mut lines = Vec::new();
    for from in circle {
        for (to, names) in graph.arrows.get(from).into_iter().flatten() {
            let (a, b) = (&graph.files[*from].module, &graph.files[*to].module);
            if circle.contains(to) && !(b.len() < a.len() && a.starts_with(b)) {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                lines.push(format!(
                    "    {} -> {}: {}",
                    graph.files[*from].path,
                    graph.files[*to].path,
                    names.join(", ")
                ));
            }
        }
    }
    lines.join("\n")
}

#[test]
fn every_top_level_module_has_a_floor() {
    let graph = read_graph();
    let missing: BTreeSet<&str> = graph
        .files
        .iter()
        .filter_map(|f| f.module.first())
        .filter(|top| !FLOORS.iter().any(|(name, _)| name == top))
        .map(String::as_str)
        .collect();
    assert!(
        missing.is_empty(),
        "modules of src/ with no floor in FLOORS (give each one): {missing:?}"
    );
}

#[test]
fn no_module_imports_one_above_it() {
    let graph = read_graph();
    let found = upward(&graph);
    let mut broken = Vec::new();
    for (from, to, top, names) in &found {
        if !ALLOWED_UPWARD
            .iter()
            .any(|(file, module, _)| file == from && module == top)
        {
            broken.push(format!("  {from} -> {to} ({top} is above): {names}"));
        }
    }
    let stale: Vec<String> = ALLOWED_UPWARD
        .iter()
        .filter(|(file, module, _)| !found.iter().any(|(f, _, m, _)| f == file && m == module))
        .map(|(file, module, _)| format!("  ({file:?}, {module:?})"))
        .collect();
    assert!(
        broken.is_empty() && stale.is_empty(),
        "upward imports (the floors are in FLOORS):\n{}\nALLOWED_UPWARD entries that no longer \
         match an import (delete them):\n{}",
        broken.join("\n"),
        stale.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let graph = read_graph();
    let found = circles(&graph);
    let text: Vec<String> = found
        .iter()
        .map(|c| {
            let names: Vec<&str> = c.iter().map(|f| graph.files[*f].path.as_str()).collect();
            format!(
                "  circle of {}:\n{}",
                names.join(", "),
                describe_circle(&graph, c)
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "files that import each other:\n{}",
        text.join("\n")
    );
}

/// The reader itself: it sees the arrows these sources have.
#[test]
fn the_reader_sees_uses_paths_and_re_exports() {
    let code = strip_comments_and_literals(
        "use crate::a::{b::{C, D as E}, f};\n// use crate::z;\nfn g() { let s = \"crate::y::Q\"; \
         f::h(); let q = ['\\'', '\"']; crate::x::Y::new(); child::k(); }\nmod child;\n#[cfg(test)]\nmod tests { use \
         crate::t::T; }",
    );
    let (code, tests) = strip_test_items(&code);
    assert!(tests.is_empty());
    let found = imports(&code);
    let uses: Vec<String> = found
        .uses
        .iter()
        .map(|(u, _)| format!("{}={:?}", u.segments.join("::"), u.binds))
        .collect();
    assert_eq!(
        uses,
        [
            "crate::a::b::C=Some(\"C\")",
            "crate::a::b::D=Some(\"E\")",
            "crate::a::f=Some(\"f\")"
        ]
    );
    let inline: Vec<String> = found.inline.iter().map(|p| p.join("::")).collect();
    assert_eq!(inline, ["f::h", "crate::x::Y::new", "child::k"]);
    assert_eq!(found.children, ["child"]);
    let (_, tests) = strip_test_items("#[cfg(test)]\nmod tests;\n");
    assert_eq!(tests, ["tests"]);
}
