#!/usr/bin/env bash
# Tesseract with the Danish and English language packs (the daemon's OCR
# provider, tests/ocr_scan.rs) and poppler's pdftoppm (which the tests use
# to render their synthetic pages to PNG).
#
# Idempotent: does nothing when tesseract lists both languages and pdftoppm
# runs. Needs root for apt-get.
set -euo pipefail

usable() {
    command -v tesseract >/dev/null 2>&1 &&
        command -v pdftoppm >/dev/null 2>&1 &&
        tesseract --list-langs 2>/dev/null | grep -qx dan &&
        tesseract --list-langs 2>/dev/null | grep -qx eng
}

if usable; then
    echo "tesseract for OCR: $(tesseract --version 2>&1 | head -n 1), languages dan and eng"
    exit 0
fi
command -v apt-get >/dev/null 2>&1 || {
    echo "install-ocr.sh: tesseract-ocr (dan, eng) and poppler-utils are missing and apt-get is not available" >&2
    exit 1
}
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
    tesseract-ocr tesseract-ocr-dan tesseract-ocr-eng poppler-utils
usable || { echo "install-ocr.sh: tesseract installation failed" >&2; exit 1; }
echo "tesseract for OCR: $(tesseract --version 2>&1 | head -n 1), languages dan and eng"
