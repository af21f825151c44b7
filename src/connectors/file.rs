//! The file connector: directories described as LDIF files (the demo's sample directory, test
//! fixtures, a writable stand-in target). [`ldif`] reads and writes the format, [`typing`] gives
//! values their AD syntax, [`connector`] implements the engine's connector contract.
//!
//! Invariants: reading never panics and reports the line of any problem; `read(write(x)) == x`.

pub mod connector;
pub mod ldif;
pub mod typing;
