//! A private Sendmail instance per test: Debian's sendmail-bin, unpacked by
//! `scripts/install-sendmail.sh` (never installed: it conflicts with
//! Postfix), a `sendmail.cf` built from the m4 macros with the README's
//! `INPUT_MAIL_FILTER` line, its own queue and mailbox directory in a
//! temporary directory, the daemon on a free port of 127.0.0.1, stopped
//! (its whole process group) when the guard is dropped.
//!
//! Sendmail runs in its own mount and UTS namespaces (`unshare`): there the
//! host name is `mx.e2e.test`, /etc/hosts and /etc/resolv.conf are the
//! instance's own (no DNS: an unqualified host name makes Sendmail sleep a
//! minute, and the tests must not depend on a resolver), and the directory
//! Cyrus SASL reads `Sendmail.conf` from is the instance's, pointing at a
//! private sasldb with one user. Nothing outside the temporary directory
//! changes. Needs root.

use super::{keep_tempdirs, pid_alive, poll, running_as_root, smtp};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// Mail to this domain is delivered into the instance's mailbox directory.
pub const INBOX_DOMAIN: &str = "inbox.test";
/// The SMTP AUTH user (realm: the host name) and its password.
pub const AUTH_USER: &str = "jens";
pub const AUTH_PASSWORD: &str = "e2e-secret";
/// The host name inside the instance's namespace (Sendmail's `$j`).
pub const HOSTNAME: &str = "mx.e2e.test";
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const START_ATTEMPTS: usize = 3;
/// Where Debian's Cyrus SASL looks for `Sendmail.conf` last; the instance
/// mounts its own directory there.
const SASL_CONF_DIR: &str = "/usr/lib/sasl2";

/// The unpacked packages: env `CPR_SENDMAIL_DIR`, else `CARGO_TARGET_DIR`
/// or `target/` + `sendmail`, as `scripts/install-sendmail.sh` uses them.
pub fn install_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CPR_SENDMAIL_DIR") {
        return d.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(target)
    };
    target.join("sendmail")
}

fn binary() -> PathBuf {
    install_dir().join("root/usr/libexec/sendmail/sendmail")
}

fn cf_dir() -> PathBuf {
    install_dir().join("root/usr/share/sendmail/cf")
}

/// The README's `INPUT_MAIL_FILTER` line (Sendmail section), with its
/// example port replaced by `port`: the tests run exactly what the README
/// tells operators to write.
pub fn readme_filter_line(port: u16) -> String {
    let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let text = fs::read_to_string(readme).unwrap_or_else(|e| panic!("{readme}: {e}"));
    let line = text
        .lines()
        .find(|l| l.starts_with("INPUT_MAIL_FILTER("))
        .unwrap_or_else(|| panic!("README.md has no INPUT_MAIL_FILTER line"));
    const EXAMPLE: &str = "S=inet:8899@127.0.0.1";
    assert!(
        line.contains(EXAMPLE),
        "README's INPUT_MAIL_FILTER line lacks {EXAMPLE:?}: {line}"
    );
    line.replace(EXAMPLE, &format!("S=inet:{port}@127.0.0.1"))
}

pub struct Sendmail {
    child: Option<Child>,
    /// `None` once kept (CPR_E2E_KEEP=1).
    tempdir: Option<TempDir>,
    root: PathBuf,
    port: u16,
    token: String,
}

impl Sendmail {
    /// Builds, starts and checks a private instance whose milter is
    /// 127.0.0.1:`milter_port`; panics with the reason when it cannot.
    pub fn start(milter_port: u16) -> Sendmail {
        assert!(
            running_as_root(),
            "the Sendmail end-to-end tests must run as root; run ./scripts/test.sh as root"
        );
        assert!(
            binary().exists() && cf_dir().join("m4/cf.m4").exists(),
            "no unpacked Sendmail in {}: run ./scripts/install-sendmail.sh (as root)",
            install_dir().display()
        );
        let mut last_error = String::new();
        for attempt in 1..=START_ATTEMPTS {
            match Sendmail::try_start(milter_port) {
                Ok(s) => return s,
                Err(e) => {
                    eprintln!("sendmail start attempt {attempt} failed: {e}");
                    last_error = e;
                }
            }
        }
        panic!("could not start a private Sendmail: {last_error}");
    }

    fn try_start(milter_port: u16) -> Result<Sendmail, String> {
        let tempdir = tempfile::Builder::new()
            .prefix("cpr-e2e-sendmail.")
            .tempdir_in(super::shared_tmp())
            .map_err(|e| format!("tempdir: {e}"))?;
        let root = tempdir.path().to_path_buf();
        let token = root
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit('.').next())
            .unwrap_or("x")
            .to_string();
        let mut sm = Sendmail {
            child: None,
            tempdir: Some(tempdir),
            root,
            port: super::free_port(),
            token,
        };
        sm.configure(milter_port)?;
        let run = sm.root.join("run.sh");
        let log = fs::File::create(sm.root.join("sendmail.out")).map_err(|e| e.to_string())?;
        let child = Command::new("unshare")
            .args(["--mount", "--uts", "--", "sh"])
            .arg(&run)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            // Its own process group: the daemon forks a child per SMTP
            // session and per delivery; stop() signals them all.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("spawn unshare: {e}"))?;
        sm.child = Some(child);
        let ready = poll(START_TIMEOUT, || {
            if let Some(status) = sm.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                return Some(Err(format!("sendmail exited ({status})")));
            }
            sm.banner_is_ours().then_some(Ok(()))
        });
        match ready {
            Some(Ok(())) => Ok(sm),
            Some(Err(e)) => Err(format!("{e}; its output:\n{}", sm.output())),
            None => Err(format!(
                "sendmail did not greet on 127.0.0.1:{} within {START_TIMEOUT:?}; its output:\n{}",
                sm.port,
                sm.output()
            )),
        }
    }

    fn configure(&self, milter_port: u16) -> Result<(), String> {
        let root = &self.root;
        let r = root.display();
        let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
        // Mailers run as Sendmail's default user; they must reach mail/.
        fs::set_permissions(root, fs::Permissions::from_mode(0o755)).map_err(|e| io("chmod", e))?;
        fs::create_dir(root.join("queue")).map_err(|e| io("queue", e))?;
        fs::set_permissions(root.join("queue"), fs::Permissions::from_mode(0o700))
            .map_err(|e| io("chmod queue", e))?;
        fs::create_dir(root.join("mail")).map_err(|e| io("mail", e))?;
        fs::set_permissions(root.join("mail"), fs::Permissions::from_mode(0o1777))
            .map_err(|e| io("chmod mail", e))?;
        fs::create_dir(root.join("sasl")).map_err(|e| io("sasl", e))?;

        fs::write(
            root.join("hosts"),
            format!("127.0.0.1 localhost {HOSTNAME}\n"),
        )
        .map_err(|e| io("hosts", e))?;
        // Nothing listens on 127.0.0.1:53: a lookup fails at once.
        fs::write(
            root.join("resolv.conf"),
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
        )
        .map_err(|e| io("resolv.conf", e))?;
        fs::write(
            root.join("sasl/Sendmail.conf"),
            format!(
                "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n\
                 sasldb_path: {r}/sasl/sasldb2\nmech_list: PLAIN LOGIN\n"
            ),
        )
        .map_err(|e| io("Sendmail.conf", e))?;
        self.add_sasl_user()?;

        // The local mailer: one file per recipient, the local part in an
        // X-Delivered-To header on top.
        let deliver = root.join("deliver.sh");
        fs::write(
            &deliver,
            format!(
                "#!/bin/sh\n\
                 dir={r}/mail\n\
                 msg=$(mktemp \"$dir/.msg.XXXXXX\") || exit 75\n\
                 cat > \"$msg\" || exit 75\n\
                 for rcpt in \"$@\"; do\n\
                 \x20 f=$(mktemp \"$dir/.new.XXXXXX\") || exit 75\n\
                 \x20 {{ printf 'X-Delivered-To: %s@{INBOX_DOMAIN}\\n' \"$rcpt\"; cat \"$msg\"; }} > \"$f\" || exit 75\n\
                 \x20 mv \"$f\" \"$dir/$(date +%s%N).$$.$rcpt\" || exit 75\n\
                 done\n\
                 rm -f \"$msg\"\n"
            ),
        )
        .map_err(|e| io("deliver.sh", e))?;
        fs::set_permissions(&deliver, fs::Permissions::from_mode(0o755))
            .map_err(|e| io("chmod deliver.sh", e))?;

        let mc = self.mc_text(milter_port);
        fs::write(root.join("sendmail.mc"), &mc).map_err(|e| io("sendmail.mc", e))?;
        let cf_dir = cf_dir();
        let out = Command::new("m4")
            .arg(format!("-D_CF_DIR_={}/", cf_dir.display()))
            .arg(cf_dir.join("m4/cf.m4"))
            .arg(root.join("sendmail.mc"))
            .output()
            .map_err(|e| format!("run m4: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "m4 failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        fs::write(root.join("sendmail.cf"), &out.stdout).map_err(|e| io("sendmail.cf", e))?;

        fs::write(
            root.join("run.sh"),
            format!(
                "set -e\n\
                 mount --bind {r}/hosts /etc/hosts\n\
                 mount --bind {r}/resolv.conf /etc/resolv.conf\n\
                 mount --bind {r}/sasl {SASL_CONF_DIR}\n\
                 echo {HOSTNAME} > /proc/sys/kernel/hostname\n\
                 exec {} -C {r}/sendmail.cf -bD\n",
                binary().display()
            ),
        )
        .map_err(|e| io("run.sh", e))?;
        Ok(())
    }

    /// A minimal Sendmail configuration: the daemon on 127.0.0.1:port,
    /// `inbox.test` local (delivered by deliver.sh), relaying for the local
    /// client (so lookalike recipients reach the milter), no aliases, DNS or
    /// load-average throttling, AUTH PLAIN/LOGIN, and the README's filter.
    fn mc_text(&self, milter_port: u16) -> String {
        let r = self.root.display();
        let port = self.port;
        let token = &self.token;
        let filter = readme_filter_line(milter_port);
        format!(
            "divert(-1)\n\
             VERSIONID(`cpr-milter e2e')\n\
             OSTYPE(`linux')\n\
             define(`confDOMAIN_NAME', `{HOSTNAME}')\n\
             define(`QUEUE_DIR', `{r}/queue')\n\
             define(`confPID_FILE', `{r}/sendmail.pid')\n\
             define(`STATUS_FILE', `{r}/statistics')\n\
             define(`ALIAS_FILE', `')\n\
             define(`confHELP_FILE', `')\n\
             define(`confHOST_STATUS_DIRECTORY', `')\n\
             define(`confDONT_PROBE_INTERFACES', `True')\n\
             define(`confTO_IDENT', `0')\n\
             define(`confQUEUE_LA', `1000')\n\
             define(`confREFUSE_LA', `1000')\n\
             define(`confSMTP_LOGIN_MSG', `$j Sendmail $v/$Z; cpr-e2e {token}')\n\
             define(`LOCAL_MAILER_PATH', `{r}/deliver.sh')\n\
             define(`LOCAL_MAILER_ARGS', `deliver.sh $u')\n\
             MODIFY_MAILER_FLAGS(`LOCAL', `-wAf')\n\
             define(`confAUTH_MECHANISMS', `PLAIN LOGIN')\n\
             TRUST_AUTH_MECH(`PLAIN LOGIN')\n\
             FEATURE(`no_default_msa')\n\
             FEATURE(`nocanonify')\n\
             FEATURE(`promiscuous_relay')\n\
             FEATURE(`accept_unresolvable_domains')\n\
             LOCAL_DOMAIN(`{INBOX_DOMAIN}')\n\
             DAEMON_OPTIONS(`Family=inet, Addr=127.0.0.1, Port={port}, Name=MTA')\n\
             {filter}\n\
             MAILER(`local')\n\
             MAILER(`smtp')\n"
        )
    }

    fn add_sasl_user(&self) -> Result<(), String> {
        use std::io::Write;
        let mut child = Command::new("saslpasswd2")
            .args(["-p", "-c", "-u", HOSTNAME, "-f"])
            .arg(self.root.join("sasl/sasldb2"))
            .arg(AUTH_USER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("saslpasswd2 (scripts/install-sendmail.sh installs it): {e}"))?;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(AUTH_PASSWORD.as_bytes())
            .map_err(|e| format!("saslpasswd2 stdin: {e}"))?;
        let out = child
            .wait_with_output()
            .map_err(|e| format!("saslpasswd2: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "saslpasswd2 failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn banner_is_ours(&self) -> bool {
        smtp::greets_with(self.port, &self.token)
    }

    /// Sendmail's version from its greeting (`... Sendmail 8.17.1.9/...`).
    /// Not from `sendmail -d0.1`: outside the namespace that would wait a
    /// minute on the unqualified host name.
    pub fn version(&self) -> String {
        let banner = smtp::Client::connect(self.port)
            .map(|c| {
                let text = c.banner.text();
                let _ = c.quit();
                text
            })
            .unwrap_or_default();
        banner
            .split_once("Sendmail ")
            .and_then(|(_, rest)| rest.split(['/', ';', ' ']).next())
            .unwrap_or("?")
            .to_string()
    }

    /// The SMTP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// What Sendmail printed on stdout/stderr (errors at start-up).
    pub fn output(&self) -> String {
        super::read_lossy(&self.root.join("sendmail.out"))
    }

    /// The generated sendmail.cf.
    pub fn cf(&self) -> String {
        super::read_lossy(&self.root.join("sendmail.cf"))
    }

    /// Messages delivered so far (oldest first), each with the
    /// `X-Delivered-To` line the local mailer put on top.
    pub fn delivered(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = fs::read_dir(self.root.join("mail")) else {
            return Vec::new();
        };
        let files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with('.'))
            })
            .collect();
        super::read_in_name_order(files)
    }

    /// Waits (bounded) until at least `n` messages are delivered.
    pub fn wait_delivered(&self, n: usize) -> Vec<Vec<u8>> {
        poll(DELIVERY_TIMEOUT, || {
            let d = self.delivered();
            (d.len() >= n).then_some(d)
        })
        .unwrap_or_else(|| {
            panic!(
                "expected {n} delivered message(s) within {DELIVERY_TIMEOUT:?}, have {}; queue: {:?}",
                self.delivered().len(),
                self.queue_files()
            )
        })
    }

    /// Files in the queue directory: mail Sendmail took responsibility for
    /// and has not delivered yet.
    pub fn queue_files(&self) -> Vec<String> {
        fs::read_dir(self.root.join("queue"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Stops the daemon and every process of its group: SIGTERM, a bounded
    /// wait, then SIGKILL.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pgid = child.id();
        signal_group(pgid, "TERM");
        if poll(STOP_TIMEOUT, || child.try_wait().ok().flatten()).is_none() {
            eprintln!("sendmail {pgid} ignored SIGTERM for {STOP_TIMEOUT:?}; killing it");
        }
        // Session and delivery children may outlive the daemon briefly.
        signal_group(pgid, "KILL");
        let _ = child.kill();
        let _ = child.wait();
        let _ = poll(STOP_TIMEOUT, || (!pid_alive(pgid)).then_some(()));
    }
}

impl Drop for Sendmail {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = self.tempdir.take() {
            if keep_tempdirs() {
                eprintln!("keeping Sendmail test dir {}", dir.keep().display());
            }
        }
    }
}

/// kill(1) for a whole process group (`kill -SIG -- -PGID`).
fn signal_group(pgid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
