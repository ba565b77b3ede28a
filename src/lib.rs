//! flowactor: a Langflow-compatible flow server built as an actor runtime.
//!
//! `main` parses the command line ([`cli`]); [`server`] wires settings, the sled store, the
//! registry actor and the HTTP front ([`http`]); [`admin`] holds the operations the CLI and
//! start-up share. Everything that runs behind the HTTP front lives in `flowactor-actors`.

pub mod admin;
pub mod cli;
pub mod error;
pub mod http;
pub mod jobs;
pub mod logging;
pub mod server;
pub mod settings;
