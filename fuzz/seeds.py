#!/usr/bin/env python3
"""Seed corpora for the fuzz targets from mail files.

usage: seeds.py OUT_DIR MAX_BYTES FILE...

Writes, under OUT_DIR/<target>/, one file per seed named by its SHA-1:
the raw message (message), each attachment's decoded bytes by kind
(reader_pdf, reader_office with its selector byte, reader_html,
reader_text) and every envelope-like address (recipient). Files larger
than MAX_BYTES are skipped; unreadable mail is skipped, never fatal.
"""
import email
import email.policy
import hashlib
import os
import re
import sys

# Selector bytes: the index into the target's KINDS table.
OFFICE = {"docx": 0, "xlsx": 1, "pptx": 2, "odt": 3, "ods": 4, "odp": 5, "zip": 6, "doc": 7}
TEXT = {"txt": 0, "csv": 1, "rtf": 5, "eml": 6}
ADDRESS = re.compile(rb"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+")


def put(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def attachment_seeds(out, msg, max_bytes):
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:
            continue
        if not data or len(data) > max_bytes:
            continue
        name = (part.get_filename() or "").lower()
        ext = name.rsplit(".", 1)[-1] if "." in name else ""
        ctype = part.get_content_type()
        if data.startswith(b"%PDF") or ext == "pdf":
            put(out, "reader_pdf", data)
        elif ext in OFFICE or data.startswith(b"PK\x03\x04"):
            put(out, "reader_office", bytes([OFFICE.get(ext, 6)]) + data)
        elif ctype == "text/html" or ext in ("html", "htm"):
            put(out, "reader_html", data)
        elif ext in TEXT or ctype.startswith("text/") or ctype == "message/rfc822":
            put(out, "reader_text", bytes([TEXT.get(ext, 0)]) + data)


def main():
    out, max_bytes, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    for path in files:
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if len(raw) > max_bytes:
            continue
        put(out, "message", raw)
        head = raw.split(b"\n\n", 1)[0][:8192]
        for addr in set(ADDRESS.findall(head)):
            put(out, "recipient", addr[:256])
        try:
            msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        except Exception:
            continue
        attachment_seeds(out, msg, max_bytes)


if __name__ == "__main__":
    main()
