//! The milter served in-process on 127.0.0.1 (indymilter over a tokio
//! listener), for tests that drive it with indymilter-test. One harness for
//! every in-process test, reload included.

use cpr_milter::reload::{self, ReloadTrigger};
use cpr_milter::settings::{self, Loaded};
use cpr_milter::Shared;
use cpr_milter_core::Inspector;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The fingerprint key the in-process milter runs with.
pub const TEST_KEY: &[u8] = b"test-fingerprint-key";

pub struct InProcess {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    reload: Option<ReloadTrigger>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl InProcess {
    /// Serves the configuration `yaml` (its `listen` is not used), with the
    /// test fingerprint key.
    pub async fn start(yaml: &str) -> InProcess {
        let mut loaded = settings::parse(yaml, "test.yaml").expect("test config is valid");
        loaded.inspector = Inspector::new(loaded.inspector.policy().clone(), Some(TEST_KEY.into()));
        InProcess::serve(loaded, None).await
    }

    /// Serves the configuration file at `path` and reloads it on
    /// [`InProcess::reload`], as SIGHUP does in the daemon.
    pub async fn start_reloading(path: &Path) -> InProcess {
        let loaded = settings::load(path).expect("test config is valid");
        let (trigger, reloads) = reload::channel(path.to_path_buf());
        InProcess::serve(loaded, Some((trigger, reloads))).await
    }

    async fn serve(loaded: Loaded, reload: Option<(ReloadTrigger, reload::Reloads)>) -> InProcess {
        let shared = Shared::from_loaded(loaded);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let serving = shared.clone();
        let (trigger, reloads) = match reload {
            Some((t, r)) => (Some(t), Some(r)),
            None => (None, None),
        };
        let task = tokio::spawn(async move {
            match reloads {
                Some(r) => cpr_milter::run_reloading(listener, serving, r, rx).await,
                None => cpr_milter::run(listener, serving, rx).await,
            }
            .unwrap();
        });
        InProcess {
            addr,
            shared,
            reload: trigger,
            stop: Some(tx),
            task,
        }
    }

    /// Asks for a reload of the configuration file.
    pub fn reload(&self) {
        self.reload
            .as_ref()
            .expect("started with start_reloading")
            .request();
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
    }
}
