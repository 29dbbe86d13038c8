//! Walking directories in a stable order: Maildir (`cur/`, `new/`, never
//! `tmp/`), Maildir++ sub-folders, MH folders, plain folders of files.

use super::decompress::Counting;
use super::{read_stream, Event, ReadOptions};
use std::cmp::Ordering;
use std::ffi::OsString;
use std::path::Path;

/// Reads a file or walks a directory.
pub fn read_path(path: &Path, opts: &ReadOptions, emit: &mut dyn FnMut(Event) -> bool) -> bool {
    let shown = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            return emit(Event::Error {
                path: shown,
                error: e.to_string(),
            })
        }
    };
    if meta.is_dir() {
        return read_dir(path, opts, emit);
    }
    if !meta.is_file() {
        return emit(Event::Skipped {
            path: shown,
            why: "not a regular file",
        });
    }
    match std::fs::File::open(path) {
        Ok(f) => {
            let input = Box::new(Counting::new(f, opts.disk_bytes.clone()));
            read_stream(&shown, input, meta.len(), opts, emit)
        }
        Err(e) => emit(Event::Error {
            path: shown,
            error: e.to_string(),
        }),
    }
}

fn read_dir(dir: &Path, opts: &ReadOptions, emit: &mut dyn FnMut(Event) -> bool) -> bool {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            return emit(Event::Error {
                path: dir.display().to_string(),
                error: e.to_string(),
            })
        }
    };
    // Names only (not paths, not metadata): a Maildir with a million files
    // costs a million short strings.
    let mut names: Vec<OsString> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => names.push(e.file_name()),
            Err(e) => {
                if !emit(Event::Error {
                    path: dir.display().to_string(),
                    error: e.to_string(),
                }) {
                    return false;
                }
            }
        }
    }
    names.sort_by(|a, b| natural_order(a.as_encoded_bytes(), b.as_encoded_bytes()));
    let is_dir = |name: &str| names.iter().any(|n| n == name) && dir.join(name).is_dir();
    let maildir = is_dir("cur") || is_dir("new");
    for name in &names {
        let path = dir.join(name);
        let Ok(link) = std::fs::symlink_metadata(&path) else {
            // Gone since listed (a Maildir being delivered to): nothing to read.
            continue;
        };
        if maildir && name == "tmp" && link.is_dir() {
            continue; // mail still being written, not delivered
        }
        if link.file_type().is_symlink() && path.is_dir() {
            if !emit(Event::Skipped {
                path: path.display().to_string(),
                why: "symbolic link to a directory (not followed)",
            }) {
                return false;
            }
            continue;
        }
        if !read_path(&path, opts, emit) {
            return false;
        }
    }
    true
}

/// Name order with digit runs compared by value: MH's `2` before `10`.
fn natural_order(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let (x, y) = (trim_zeros(&a[si..i]), trim_zeros(&b[sj..j]));
            let by_value = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
            if by_value != Ordering::Equal {
                return by_value;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j)).then_with(|| a.cmp(b))
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let k = d.iter().position(|&c| c != b'0').unwrap_or(d.len());
    &d[k..]
}

#[cfg(test)]
mod tests {
    use super::natural_order;

    #[test]
    fn numbers_sort_by_value() {
        let mut v = vec!["10", "2", "1", ".mh_sequences", "a10", "a9", "b"];
        v.sort_by(|a, b| natural_order(a.as_bytes(), b.as_bytes()));
        assert_eq!(v, [".mh_sequences", "1", "2", "10", "a9", "a10", "b"]);
    }
}
