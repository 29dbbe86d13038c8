//! A milter session driven by an arbitrary sequence of MTA commands and
//! values, against the daemon's real callbacks over a unix socket.
//! `FUZZ_SHOW=1` prints each decoded session (to see what an artifact
//! sends: `FUZZ_SHOW=1 target/.../milter_session artifacts/...`).
#![no_main]
use cpr_milter_fuzz::milter_wire::{run_session, Session};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|session: Session| {
    if std::env::var_os("FUZZ_SHOW").is_some() {
        eprintln!("{session:?}");
    }
    run_session(&session);
});
