#!/usr/bin/env python3
"""Mails for bench/postfix-load.sh, written into OUT_DIR:

  clean-10k.eml   a clean 10 KB text mail (prose, dates, prices; no CPR)
  worst.eml       a worst case for the inspection: a small PDF whose page
                  content stream inflates to CONTENT_MIB MiB of drawing
                  operators (the shape of vector-heavy maps and plans), with
                  a DOCX-sized text part around it

usage: make_load_mails.py OUT_DIR [CONTENT_MIB]
"""
import base64
import sys
import zlib


def mail(subject, parts):
    boundary = "b-load-bench"
    out = [
        "From: Jens Hansen <jens@nyborg.dk>",
        "To: <sag@partner.example>",
        f"Subject: {subject}",
        "Message-ID: <load@nyborg.dk>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
    ]
    for headers, body in parts:
        out.append(f"--{boundary}")
        out.extend(headers)
        out.append("")
        out.append(body)
    out.append(f"--{boundary}--")
    return ("\r\n".join(out) + "\r\n").encode()


def prose(size):
    line = ("Mødet den 14. marts kl. 10.30 i lokale 2.14 er flyttet; prisen er 1.250,00 kr. "
            "Sagsnummer 2026-04-1187, telefon 63 33 12 34.\r\n")
    return (line * (size // len(line) + 1))[:size]


def pdf(content_mib):
    ops = b"0.5 0.5 0.5 RG 10 10 m 200 200 l 300 10 l h S 1 0 0 1 0.1 0.1 cm\n"
    content = ops * ((content_mib << 20) // len(ops))
    stream = zlib.compress(content, 9)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def b64(data):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + 76] for i in range(0, len(s), 76))


def main():
    out_dir = sys.argv[1]
    content_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    text = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    with open(f"{out_dir}/clean-10k.eml", "wb") as f:
        f.write(mail("Referat", [(text, prose(10 * 1024 - 600))]))
    attach = [
        "Content-Type: application/pdf; name=\"plan.pdf\"",
        "Content-Disposition: attachment; filename=\"plan.pdf\"",
        "Content-Transfer-Encoding: base64",
    ]
    with open(f"{out_dir}/worst.eml", "wb") as f:
        f.write(mail("Lokalplan", [(text, prose(2048)), (attach, b64(pdf(content_mib)))]))


if __name__ == "__main__":
    main()
