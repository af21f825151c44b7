//! The file connector: directories described as LDIF files (the demo's sample directory, test
//! fixtures). Status: the LDIF reader and writer ([`ldif`]) are built; the connector itself comes
//! with the engine (issue 4).
//!
//! Invariants: reading never panics and reports the line of any problem; `read(write(x)) == x`.

pub mod ldif;
