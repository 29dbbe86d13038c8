#!/usr/bin/env python3
"""SMTP load generator with per-mail latency, for bench/postfix-load.sh.

usage: smtp_load.py PORT SESSIONS MAILS_PER_SESSION FILE [EVERY:FILE2]

SESSIONS threads each open one SMTP session and send MAILS_PER_SESSION
mails in it (RSET between mails), FILE as the message; with EVERY:FILE2,
every EVERY-th mail of a session is FILE2 instead. The latency of a mail is
the time from MAIL FROM to the reply after the final dot. Prints one JSON
object: mails, seconds, accepted, tempfailed, rejected, errors, and latency
p50/p99 in milliseconds (of accepted mails).
"""
import json
import smtplib
import sys
import threading
import time


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def main():
    port, sessions, per_session, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    every, alt = 0, None
    if len(sys.argv) > 5:
        n, alt_path = sys.argv[5].split(":", 1)
        every = int(n)
        alt = open(alt_path, "rb").read()
    body = open(path, "rb").read()
    lock = threading.Lock()
    stats = {"accepted": 0, "tempfailed": 0, "rejected": 0, "errors": 0}
    latencies = []

    def session(idx):
        local = []
        counts = {"accepted": 0, "tempfailed": 0, "rejected": 0, "errors": 0}
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=300)
            s.ehlo("load.bench.test")
        except Exception:
            with lock:
                stats["errors"] += per_session
            return
        for i in range(per_session):
            msg = alt if every and (i + idx) % every == 0 else body
            t0 = time.monotonic()
            try:
                code, _ = s.mail("jens@nyborg.dk")
                if code == 250:
                    code, _ = s.rcpt("sag@partner.example")
                if code == 250:
                    code, _ = s.data(msg)
            except smtplib.SMTPResponseException as e:
                code = e.smtp_code
            except Exception:
                counts["errors"] += 1
                try:
                    s = smtplib.SMTP("127.0.0.1", port, timeout=300)
                    s.ehlo("load.bench.test")
                except Exception:
                    pass
                continue
            dt = time.monotonic() - t0
            if code == 250:
                counts["accepted"] += 1
                local.append(dt)
            elif 400 <= code < 500:
                counts["tempfailed"] += 1
            else:
                counts["rejected"] += 1
            try:
                s.rset()
            except Exception:
                pass
        try:
            s.quit()
        except Exception:
            pass
        with lock:
            latencies.extend(local)
            for k, v in counts.items():
                stats[k] += v

    t0 = time.monotonic()
    threads = [threading.Thread(target=session, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - t0
    latencies.sort()
    out = dict(stats)
    out["mails"] = sessions * per_session
    out["seconds"] = round(seconds, 3)
    out["p50_ms"] = None if not latencies else round(percentile(latencies, 50) * 1000, 1)
    out["p99_ms"] = None if not latencies else round(percentile(latencies, 99) * 1000, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
