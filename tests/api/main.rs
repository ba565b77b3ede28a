//! The integration tests: one binary (one link) whose modules drive the real HTTP app on port 0
//! with a temporary config dir (`common`), the real `flowactor` binary (`binary`), and a mock
//! model provider (`mock_llm`).

#[path = "../common/mod.rs"]
mod common;
#[path = "../support/mock_llm.rs"]
mod mock_llm;

mod api_keys;
mod auth;
mod binary;
mod build;
mod console;
mod examples;
mod files;
mod flows;
mod inventory;
mod llm;
mod monitor;
mod projects;
mod run;
mod schemas;
mod security;
mod storage;
mod users;
mod variables;
