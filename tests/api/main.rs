//! The integration tests: one binary (one link) whose modules drive the real HTTP app on port 0
//! with a temporary config dir (`common`), the real `flowactor` binary (`binary`), a mock
//! model provider (`mock_llm`), and a local web server for the tool components (`pages`).

#[path = "../common/mod.rs"]
mod common;
#[path = "../support/mock_llm.rs"]
mod mock_llm;
#[path = "../support/pages.rs"]
mod pages;

mod agent;
mod agent_helpers;
mod api_keys;
mod auth;
mod batch_run;
mod binary;
mod build;
mod console;
mod examples;
mod files;
mod flows;
mod inventory;
mod key_scopes;
mod key_usage;
mod llm;
mod monitor;
mod monitor_builds;
mod postgres;
mod projects;
mod resume;
mod run;
mod schemas;
mod security;
mod starters;
mod storage;
mod structured;
mod tools;
mod users;
mod validate;
mod variables;
