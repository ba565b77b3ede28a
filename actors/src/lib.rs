//! `flowactor-actors`: everything that runs behind the HTTP front.
//!
//! The HTTP layer (crate `flowactor`) only translates requests into messages for the actors
//! defined here and their answers back into Langflow's wire format. Nothing in this crate knows
//! about actix-web: the registry answers identity questions, the store owns the bytes on disk,
//! the engine runs graphs, and `llm` talks to model providers.

pub mod agent;
pub mod catalog;
pub mod clock;
pub mod codec;
pub mod components;
pub mod crypto;
mod defaults;
pub mod engine;
pub mod error;
pub mod graph;
pub mod ids;
pub mod llm;
pub mod pg;
pub mod records;
pub mod registry;
pub mod store;
pub mod usage;

pub use error::RegistryError;
pub use registry::RegistryActor;
pub use store::Store;
