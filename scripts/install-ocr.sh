#!/usr/bin/env bash
# Tesseract with the Danish and English language packs (the daemon's OCR
# provider, tests/ocr_scan.rs), poppler's pdftoppm (which the tests use to
# render their synthetic pages to images), and the tools that turn those
# images into scanned PDFs the way scanning software does: libtiff's
# ppm2tiff and tiff2pdf (CCITT Group 4 fax images) and img2pdf (lossless
# Flate images).
#
# Idempotent: does nothing when tesseract lists both languages and pdftoppm
# runs. Needs root for apt-get.
set -euo pipefail

usable() {
    command -v tesseract >/dev/null 2>&1 &&
        command -v pdftoppm >/dev/null 2>&1 &&
        command -v tiff2pdf >/dev/null 2>&1 &&
        command -v ppm2tiff >/dev/null 2>&1 &&
        command -v img2pdf >/dev/null 2>&1 &&
        tesseract --list-langs 2>/dev/null | grep -qx dan &&
        tesseract --list-langs 2>/dev/null | grep -qx eng
}

if usable; then
    echo "tesseract for OCR: $(tesseract --version 2>&1 | head -n 1), languages dan and eng"
    exit 0
fi
command -v apt-get >/dev/null 2>&1 || {
    echo "install-ocr.sh: tesseract-ocr (dan, eng), poppler-utils, libtiff-tools or img2pdf is missing and apt-get is not available" >&2
    exit 1
}
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
    tesseract-ocr tesseract-ocr-dan tesseract-ocr-eng poppler-utils libtiff-tools img2pdf
usable || { echo "install-ocr.sh: tesseract installation failed" >&2; exit 1; }
echo "tesseract for OCR: $(tesseract --version 2>&1 | head -n 1), languages dan and eng"
