//! The `cpr-milter` daemon and command-line front ends: thin glue between the
//! pure inspection core (`cpr-milter-core`), the milter protocol (indymilter),
//! syslog and the file system.
//!
//! This library is a test seam, not an API: it exists so that the tests
//! can run the daemon's pieces in-process (the milter on a test listener,
//! reload on request, `scan` on a buffer). Nothing here is stable.

pub mod admission;
pub mod audit;
pub mod buffer;
pub mod cli;
pub mod logging;
pub mod mailbox;
pub mod memory;
pub mod metrics;
pub mod milter;
pub mod reload;
pub mod report;
pub mod scan;
pub mod settings;

pub use milter::{run, Shared};
pub use reload::run_reloading;
