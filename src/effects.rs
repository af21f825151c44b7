//! The effects runner: the only place the wizard touches the world. Pages return effects (test a
//! bind, list OUs, sign in to the tenant, write the config, start a cycle); the runner executes
//! them on tokio and returns messages. Tests swap in a fake runner.
//!
//! Invariants: effects are cancellable and report progress; the UI thread never waits on them.
//!
//! Status: not built yet (issue 9).
