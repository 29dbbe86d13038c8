//! Command line: `run`, `check-config`, `scan` (docs/design.md, "Commands").

use clap::{Parser, Subcommand};
use std::path::PathBuf;

const ABOUT: &str = "Milter that stops outgoing mail carrying Danish CPR numbers, or addressed to lookalike domains or retired mailboxes, with a 5xx the sender can act on.";

const LONG_ABOUT: &str = "\
cpr-milter is a mail filter (milter) for Postfix and Sendmail. During the SMTP
transaction it inspects envelope, headers, body and attachments of outgoing
mail and rejects, with a 5xx reply that tells the sender what is wrong and how
to fix it:

  * mail with a CPR number in the Subject, another header or a file name
    (550 5.7.1, always);
  * mail with a CPR number in the body or attachments to a recipient outside
    the organisation and its secure destinations (550 5.7.1);
  * recipients at lookalike domains, e.g. fred.dk for fredericia.dk (550 5.1.2);
  * retired mailboxes, naming the new address (550 5.1.6).

Internal errors, timeouts and overload answer 451 4.7.1 so the mail stays
with the sending MTA. Mail is never discarded or quarantined silently.
Every decision that is not a plain accept is written to syslog (facility
mail) as one key=value line; CPR numbers appear only masked (2410XX-XXXX).";

const AFTER_HELP: &str = "\
Postfix (main.cf):
  smtpd_milters = unix:/run/cpr-milter/cpr-milter.sock
  milter_protocol = 6
  milter_default_action = tempfail

Exit status: 0 success (scan: all accepted), 1 error or (scan) some mail
rejected, 2 (scan) unreadable input.";

#[derive(Debug, Parser)]
#[command(name = "cpr-milter", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the milter daemon in the foreground (SIGHUP reloads, SIGTERM stops).
    #[command(long_about = "\
Run the milter daemon in the foreground, listening on the configuration's
`listen` socket (inet:HOST:PORT or unix:/PATH). Meant to be supervised by
systemd (see systemd/cpr-milter.service).

Signals: SIGHUP re-reads the configuration; a file with errors is refused,
logged with its line and column, and the running configuration stays in
force. Transactions in flight finish on the configuration they started with.
SIGTERM and SIGINT stop accepting connections, let running inspections
finish, and exit.")]
    Run {
        /// Configuration file (YAML; see milter.yaml.example).
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Validate a configuration file and print the effective policy.
    #[command(long_about = "\
Validate a configuration file and print the effective policy, with every
default filled in. Exits 1 and names file, line and column on error, so it
can guard a deployment (e.g. ExecReload=cpr-milter check-config ... && kill -HUP).")]
    CheckConfig {
        /// Configuration file (YAML).
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Inspect messages offline with the daemon's exact pipeline.
    #[command(long_about = "\
Inspect messages offline with the daemon's exact pipeline: the RCPT checks,
then the end-of-message inspection. PATH is an .eml file, an mbox (mboxo,
mboxrd, or with Content-Length headers), a directory (walked in name order:
Maildir and Maildir++ cur/ and new/ but never tmp/, MH folders), or - for
standard input (an mbox or one message, told apart by the first line). Any
file may be gzip-, xz- or zstd-compressed. Files that are not mail (Dovecot
index files, maildirfolder, scripts) are skipped, listed on stderr and
counted, never judged.

Messages are judged on all cores (--jobs) and printed in archive order,
followed by a summary (with --json: one object per message, then
{\"summary\": ...}). On a terminal, stderr shows progress (not with --quiet).

The envelope: the sender is --from or the From header; the recipients are
each --rcpt or, when none is given, the To/Cc/Bcc and Delivered-To /
X-Original-To headers. Mail is treated as outgoing (an authenticated
submission) unless --incoming is given.

--compare OLD NEW judges every message under both configurations and prints
only the messages decided differently, then the totals.

Exit status: 0 all accepted (with --compare: no differences), 1 at least one
rejected or tempfailed (differences), 2 a file could not be read.")]
    Scan {
        /// Configuration file (YAML). Without it, built-in defaults apply.
        #[arg(short, long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Envelope sender (default: the From header).
        #[arg(long, value_name = "ADDR")]
        from: Option<String>,
        /// Envelope recipient; repeat for several (default: To/Cc/Bcc headers).
        #[arg(long = "rcpt", value_name = "ADDR")]
        rcpt: Vec<String>,
        /// Treat the mail as arriving from outside the organisation (not policed).
        #[arg(long)]
        incoming: bool,
        /// One JSON object per message instead of text.
        #[arg(long)]
        json: bool,
        /// Also write one CSV row per finding to FILE (- for stdout).
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
        /// Judge under two configurations; print the messages decided differently.
        #[arg(long, num_args = 2, value_names = ["OLD", "NEW"], conflicts_with = "config")]
        compare: Option<Vec<PathBuf>>,
        /// No progress line and no list of skipped files.
        #[arg(short, long)]
        quiet: bool,
        /// Threads judging messages (default: one per core).
        #[arg(short, long, value_name = "N", default_value_t = 0)]
        jobs: usize,
        /// Files, directories, Maildirs, mboxes, or - for stdin.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<String>,
    },
    /// Summarise audit lines from syslog files (rotated, compressed) or stdin.
    #[command(long_about = "\
Summarise the milter's audit lines for the weekly look and for a breach
assessment: decisions per day and rule, per sender and recipient domain,
reject vs would-reject, tempfails and unscannable content by cause, and the
top senders of mail with CPR numbers. FILE is a syslog file (e.g.
/var/log/mail.log, mail.log.2.gz: gzip, xz and zstd are read), or standard
input when none is given. Other programs' lines are ignored.

--fingerprint-key KEYFILE (the milter's audit.fingerprint_key_file) with
suspected numbers on standard input, one per line, lists the audit lines
that involve each of them instead. Only the first finding of a message is in
its audit line, so a number that was not the first finding is not matched.
The numbers are never printed.

Exit status: 0, or 2 when an input could not be read.")]
    Report {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Key file for fingerprint lookup; suspected numbers come on stdin.
        #[arg(long, value_name = "KEYFILE")]
        fingerprint_key: Option<PathBuf>,
        /// Log files; standard input when none.
        #[arg(value_name = "FILE")]
        paths: Vec<PathBuf>,
    },
}
