#!/usr/bin/env python3
"""Writes the OCR benchmark's inputs into DIR: three one-page scans
(page-1.png ... page-3.png, rendered from PDFs written here by poppler's
pdftoppm at 150 dpi, grey) showing a form with a synthetic CPR number on
page 3; scan3.eml, a mail carrying the three as PNG attachments; and
scanpdf3.eml, a mail carrying them as one 3-page scanned PDF made by
img2pdf (what a scanner's "scan to PDF" sends).

usage: make_ocr_mail.py DIR
"""
import base64
import subprocess
import sys
from pathlib import Path

PAGES = [
    ["Ansoegning om boligstoette", "Side 1 af 3", "Husstandens indkomst 2025"],
    ["Ansoegning om boligstoette", "Side 2 af 3", "Lejemaal: Vestergade 12, 5800 Nyborg"],
    ["Ansoegning om boligstoette", "Side 3 af 3", "CPR-nr.: 241085-1337"],
]


def pdf_page(lines):
    content = "BT /F1 28 Tf 40 300 Td 36 TL\n"
    content += "".join(f"({line}) Tj T*\n" for line in lines) + "ET\n"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 620 360] "
        "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        f"<< /Length {len(content)} >>\nstream\n{content}endstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{o}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def main():
    d = Path(sys.argv[1])
    d.mkdir(parents=True, exist_ok=True)
    mail = (
        "From: jens@nyborg.dk\r\nTo: borger@example.org\r\nSubject: Indscannet blanket\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="sep"\r\n\r\n'
        "--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHermed blanketten.\r\n"
    )
    for n, lines in enumerate(PAGES, 1):
        pdf = d / f"page-{n}.pdf"
        pdf.write_bytes(pdf_page(lines))
        subprocess.run(
            ["pdftoppm", "-r", "150", "-gray", "-png", "-singlefile", str(pdf), str(d / f"page-{n}")],
            check=True,
        )
        png = (d / f"page-{n}.png").read_bytes()
        b64 = base64.encodebytes(png).decode().replace("\n", "\r\n")
        mail += (
            f'--sep\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="side-{n}.png"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{b64}"
        )
    mail += "--sep--\r\n"
    (d / "scan3.eml").write_bytes(mail.encode())
    pages = [str(d / f"page-{n}.png") for n in range(1, len(PAGES) + 1)]
    subprocess.run(["img2pdf", *pages, "-o", str(d / "scan3.pdf")], check=True)
    b64 = base64.encodebytes((d / "scan3.pdf").read_bytes()).decode().replace("\n", "\r\n")
    pdf_mail = (
        "From: jens@nyborg.dk\r\nTo: borger@example.org\r\nSubject: Indscannet blanket\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="sep"\r\n\r\n'
        "--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHermed blanketten.\r\n"
        '--sep\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="scan.pdf"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{b64}--sep--\r\n"
    )
    (d / "scanpdf3.eml").write_bytes(pdf_mail.encode())


if __name__ == "__main__":
    main()
