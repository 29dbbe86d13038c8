//! The pages of a PDF, found by walking the page tree with a visited set.
//!
//! lopdf's own walk gives up on a tree whose `Kids` lead back to an
//! ancestor (it yields no page at all), which made a crafted PDF look
//! empty while viewers showed its text. Here every `Pages` node is expanded
//! once and every `Page` is read once, whatever loops the tree has; when
//! the tree reaches no page, the page objects themselves are read, as
//! viewers do when they repair a file.

use std::collections::HashSet;

use lopdf::{Document, Object, ObjectId};

/// Nesting of `Pages` nodes followed; real trees are a few levels deep.
const MAX_TREE_DEPTH: usize = 64;

/// How the pages were found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// Through the page tree.
    Tree,
    /// The tree reached none; these are the objects typed `/Page`.
    Repaired,
}

/// The pages in reading order, and how they were found.
pub(super) fn pages(doc: &Document) -> (Vec<ObjectId>, Found) {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    if let Ok(root) = doc
        .catalog()
        .and_then(|c| c.get(b"Pages"))
        .and_then(Object::as_reference)
    {
        walk(doc, root, 0, &mut seen, &mut out);
    }
    if !out.is_empty() {
        return (out, Found::Tree);
    }
    let mut pages: Vec<ObjectId> = doc
        .objects
        .iter()
        .filter(|(_, o)| {
            o.as_dict()
                .ok()
                .and_then(|d| d.get_type().ok())
                .is_some_and(|t| t == b"Page")
        })
        .map(|(id, _)| *id)
        .collect();
    pages.sort();
    (pages, Found::Repaired)
}

fn walk(
    doc: &Document,
    id: ObjectId,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    out: &mut Vec<ObjectId>,
) {
    if depth > MAX_TREE_DEPTH || !seen.insert(id) {
        return;
    }
    let Ok(node) = doc.get_dictionary(id) else {
        return;
    };
    match node.get_type() {
        Ok(b"Page") => out.push(id),
        // A node without /Type that has /Kids is an intermediate node in
        // the files of some generators.
        Ok(b"Pages") | Err(_) => {
            let Ok(kids) = node.get_deref(b"Kids", doc).and_then(Object::as_array) else {
                return;
            };
            for kid in kids {
                if let Ok(kid) = kid.as_reference() {
                    walk(doc, kid, depth + 1, seen, out);
                }
            }
        }
        Ok(_) => {}
    }
}
