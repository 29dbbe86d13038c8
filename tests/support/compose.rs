//! The repository's compose.yaml stack (cpr-milter + the demo Postfix),
//! brought up under a private project name with images built for the test,
//! the Postfix port published on a free port of 127.0.0.1, and taken down
//! (containers, network) when the guard is dropped.
//!
//! No registry is reachable here, so the images are built on a local Debian
//! base image (scripts/install-docker-images.sh makes it with debootstrap):
//! cpr-milter's from the Dockerfile's `runtime-base` target plus the binary
//! this test run built (no second, release compile), the demo
//! Postfix from docker/postfix/Dockerfile. Supports `docker compose` (v2) and
//! `docker-compose` (v1), preferring v2.

use super::{free_port, poll, port_accepts, smtp};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
pub const MILTER_IMAGE: &str = "cpr-milter-test/cpr-milter:e2e";
const RUNTIME_BASE_IMAGE: &str = "cpr-milter-test/runtime-base:e2e";
pub const POSTFIX_IMAGE: &str = "cpr-milter-test/postfix:e2e";
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The base image: env `CPR_DOCKER_BASE_IMAGE`, else what
/// scripts/install-docker-images.sh builds for the host's Debian release.
pub fn base_image() -> String {
    if let Ok(image) = std::env::var("CPR_DOCKER_BASE_IMAGE") {
        return image;
    }
    let codename = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("VERSION_CODENAME=").map(str::to_string))
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "bookworm".into());
    format!("cpr-milter-test/debian:{codename}")
}

/// Runs `program args` with a bounded wait; output on success, else the
/// reason (exit status, stderr, or the timeout).
pub fn run(
    program: &str,
    args: &[&str],
    envs: &[(String, String)],
    timeout: Duration,
) -> Result<Output, String> {
    let mut child = Command::new(program)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .current_dir(REPO)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    // Drain the pipes while waiting, or a chatty command blocks.
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let (out, err) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let status = poll(timeout, || child.try_wait().ok().flatten());
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!(
            "{program} {args:?} did not finish within {timeout:?}"
        ));
    };
    let output = Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    };
    if status.success() {
        Ok(output)
    } else {
        Err(format!(
            "{program} {args:?} failed ({status}):\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Why the Docker tests cannot run here, if they cannot: no engine, no
/// compose tool, or no base image.
pub fn unavailable() -> Option<String> {
    if run("docker", &["info"], &[], Duration::from_secs(30)).is_err() {
        return Some("no Docker engine (docker info failed)".into());
    }
    if compose_command().is_none() {
        return Some("neither `docker compose` nor `docker-compose` is available".into());
    }
    let base = base_image();
    if run(
        "docker",
        &["image", "inspect", &base],
        &[],
        Duration::from_secs(30),
    )
    .is_err()
    {
        return Some(format!(
            "base image {base} missing: run ./scripts/install-docker-images.sh (as root)"
        ));
    }
    None
}

/// `docker compose` when the plugin works, else `docker-compose`.
fn compose_command() -> Option<Vec<String>> {
    let v2 = run(
        "docker",
        &["compose", "version"],
        &[],
        Duration::from_secs(30),
    );
    if v2.is_ok() {
        return Some(vec!["docker".into(), "compose".into()]);
    }
    run("docker-compose", &["version"], &[], Duration::from_secs(30))
        .ok()
        .map(|_| vec!["docker-compose".into()])
}

/// Builds both images for the test (Docker's layer cache makes repeats
/// cheap); the milter image wraps `binary`, stripped of debug info.
pub fn build_images(binary: &Path) -> Result<(), String> {
    let base = base_image();
    let context = tempfile::Builder::new()
        .prefix("cpr-e2e-docker.")
        .tempdir()
        .map_err(|e| format!("tempdir: {e}"))?;
    let staged = context.path().join("cpr-milter");
    let strip = Command::new("strip")
        .arg("-o")
        .arg(&staged)
        .arg(binary)
        .status();
    if !strip.is_ok_and(|s| s.success()) {
        std::fs::copy(binary, &staged).map_err(|e| format!("copy binary: {e}"))?;
    }
    let dockerfile = PathBuf::from(REPO).join("Dockerfile");
    let base_arg = format!("DEBIAN_IMAGE={base}");
    let context_path = context.path().to_string_lossy().into_owned();
    run(
        "docker",
        &[
            "build",
            "-q",
            "-f",
            &dockerfile.to_string_lossy(),
            "--target",
            "runtime-base",
            "--build-arg",
            &base_arg,
            "-t",
            RUNTIME_BASE_IMAGE,
            &context_path,
        ],
        &[],
        BUILD_TIMEOUT,
    )?;
    // What the Dockerfile's last stage does with the binary it compiled.
    let wrapper = context.path().join("Dockerfile.prebuilt");
    std::fs::write(
        &wrapper,
        format!("FROM {RUNTIME_BASE_IMAGE}\nCOPY cpr-milter /usr/bin/cpr-milter\n"),
    )
    .map_err(|e| format!("write {}: {e}", wrapper.display()))?;
    run(
        "docker",
        &[
            "build",
            "-q",
            "-f",
            &wrapper.to_string_lossy(),
            "-t",
            MILTER_IMAGE,
            &context_path,
        ],
        &[],
        BUILD_TIMEOUT,
    )?;
    run(
        "docker",
        &[
            "build",
            "-q",
            "--build-arg",
            &base_arg,
            "-t",
            POSTFIX_IMAGE,
            "docker/postfix",
        ],
        &[],
        BUILD_TIMEOUT,
    )?;
    Ok(())
}

pub struct ComposeStack {
    compose: Vec<String>,
    project: String,
    port: u16,
    up: bool,
}

impl ComposeStack {
    /// `compose up -d --no-build` with the test's images and port; waits
    /// until the milter is healthy and Postfix greets.
    pub fn up() -> ComposeStack {
        let compose = compose_command().expect("checked by unavailable()");
        let stack = ComposeStack {
            compose,
            project: format!("cpre2e{}", std::process::id()),
            port: free_port(),
            up: true,
        };
        if let Err(e) = stack.compose(&["up", "-d", "--no-build"]) {
            panic!("compose up failed: {e}\n{}", stack.context());
        }
        stack.wait_healthy("cpr-milter");
        stack.wait_smtp();
        stack
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("COMPOSE_PROJECT_NAME".into(), self.project.clone()),
            ("CPR_MILTER_IMAGE".into(), MILTER_IMAGE.into()),
            ("CPR_POSTFIX_IMAGE".into(), POSTFIX_IMAGE.into()),
            ("CPR_SMTP_PORT".into(), self.port.to_string()),
            ("DEBIAN_IMAGE".into(), base_image()),
        ]
    }

    /// Runs the compose tool on compose.yaml with `args`.
    pub fn compose(&self, args: &[&str]) -> Result<String, String> {
        let mut all: Vec<&str> = self.compose[1..].iter().map(String::as_str).collect();
        all.extend(["-f", "compose.yaml", "-p", &self.project]);
        all.extend(args);
        run(&self.compose[0], &all, &self.env(), COMMAND_TIMEOUT).map(|o| text(&o))
    }

    /// The SMTP port of the Postfix container, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The id of `service`'s container, if it has one.
    pub fn container_id(&self, service: &str) -> Option<String> {
        let id = self.compose(&["ps", "-q", service]).ok()?;
        let id = id.trim();
        (!id.is_empty()).then(|| id.to_string())
    }

    /// The id of `service`'s container.
    pub fn container(&self, service: &str) -> String {
        self.container_id(service)
            .unwrap_or_else(|| panic!("no container for {service}"))
    }

    /// `docker logs` of `service` (stdout and stderr).
    pub fn logs(&self, service: &str) -> String {
        let Some(id) = self.container_id(service) else {
            return format!("(no container for {service})");
        };
        match run("docker", &["logs", &id], &[], COMMAND_TIMEOUT) {
            Ok(o) => format!("{}{}", text(&o), String::from_utf8_lossy(&o.stderr)),
            Err(e) => e,
        }
    }

    /// Runs `cmd` inside `service`'s container.
    pub fn exec(&self, service: &str, cmd: &[&str]) -> Result<String, String> {
        let container = self.container(service);
        let mut args = vec!["exec", container.as_str()];
        args.extend(cmd);
        run("docker", &args, &[], COMMAND_TIMEOUT).map(|o| text(&o))
    }

    /// The container's health status (`healthy`, `starting`, ...).
    pub fn health(&self, service: &str) -> String {
        run(
            "docker",
            &[
                "inspect",
                "-f",
                "{{.State.Health.Status}}",
                &self.container(service),
            ],
            &[],
            COMMAND_TIMEOUT,
        )
        .map(|o| text(&o).trim().to_string())
        .unwrap_or_else(|e| e)
    }

    /// Waits (bounded) until Docker reports `service` healthy.
    pub fn wait_healthy(&self, service: &str) {
        let ok = poll(READY_TIMEOUT, || {
            let h = self.health(service);
            std::thread::sleep(Duration::from_millis(450));
            (h == "healthy").then_some(())
        });
        if ok.is_none() {
            panic!(
                "{service} not healthy within {READY_TIMEOUT:?} ({}):\n{}",
                self.health(service),
                self.context()
            );
        }
    }

    fn wait_smtp(&self) {
        let ok = poll(READY_TIMEOUT, || {
            if !port_accepts(self.port) {
                return None;
            }
            smtp::Client::connect_with_timeout(self.port, Duration::from_secs(5))
                .ok()
                .filter(|c| c.banner.code == 220)
                .map(|c| {
                    let _ = c.quit();
                })
        });
        if ok.is_none() {
            panic!(
                "Postfix did not greet on 127.0.0.1:{} within {READY_TIMEOUT:?}:\n{}",
                self.port,
                self.context()
            );
        }
    }

    /// Stops or starts one service's container (`compose stop|start`).
    pub fn stop(&self, service: &str) {
        self.compose(&["stop", service])
            .unwrap_or_else(|e| panic!("compose stop {service}: {e}"));
    }

    pub fn start(&self, service: &str) {
        self.compose(&["start", service])
            .unwrap_or_else(|e| panic!("compose start {service}: {e}"));
    }

    /// Files in the demo Postfix's Maildir (delivered messages).
    pub fn delivered(&self) -> Vec<String> {
        self.exec(
            "postfix",
            &[
                "find",
                "/var/mail/inbox/new",
                "/var/mail/inbox/cur",
                "-type",
                "f",
            ],
        )
        .map(|out| out.lines().map(str::to_string).collect())
        .unwrap_or_default()
    }

    /// Waits (bounded) until `n` messages are delivered; returns their text.
    pub fn wait_delivered(&self, n: usize) -> Vec<String> {
        let files = poll(Duration::from_secs(20), || {
            let d = self.delivered();
            (d.len() >= n).then_some(d)
        })
        .unwrap_or_else(|| {
            panic!(
                "expected {n} delivered message(s), have {}:\n{}",
                self.delivered().len(),
                self.context()
            )
        });
        files
            .iter()
            .map(|f| self.exec("postfix", &["cat", f]).unwrap_or_default())
            .collect()
    }

    /// `postqueue -p` inside the Postfix container.
    pub fn queue(&self) -> String {
        self.exec("postfix", &["postqueue", "-p"])
            .unwrap_or_else(|e| e)
    }

    /// Both containers' logs, for failure messages.
    pub fn context(&self) -> String {
        format!(
            "--- cpr-milter logs:\n{}\n--- postfix logs:\n{}",
            self.logs("cpr-milter"),
            self.logs("postfix")
        )
    }

    /// `compose down`: containers and network removed.
    pub fn down(&mut self) {
        if std::mem::take(&mut self.up) {
            if let Err(e) = self.compose(&["down", "-v", "--remove-orphans", "-t", "5"]) {
                eprintln!("compose down: {e}");
            }
        }
    }
}

impl Drop for ComposeStack {
    fn drop(&mut self) {
        self.down();
    }
}
