use std::collections::HashMap;

use super::*;

fn load(env: &[(&str, &str)]) -> anyhow::Result<Settings> {
    Settings::load(&Sources {
        env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..Sources::default()
    })
}

#[test]
fn defaults_follow_langflow_1_13() {
    let s = load(&[]).expect("defaults");
    assert!(!s.auto_login);
    assert_eq!(s.port, 7860);
    assert_eq!(s.superuser, "langflow");
    assert_eq!(s.access_token_expire_seconds, 3600);
    assert_eq!(s.rate_limit_per_minute, 5);
    assert_eq!((s.min_free_disk_mb, s.signup_rate_limit_per_minute), (64, 10));
    assert!(s.variables_to_get_from_environment.contains(&"OPENAI_API_KEY".to_owned()));
    assert!(!s.enable_test_components);
    assert_eq!((s.max_message_bytes, s.max_output_bytes), (1 << 20, 4 << 20));
    let err = load(&[(vars::MAX_OUTPUT_BYTES, "0")]).expect_err("must refuse").to_string();
    assert!(err.contains("FLOWACTOR_MAX_OUTPUT_BYTES"), "{err}");
}

/// The README's configuration table and [`KNOWN`] agree: every setting is documented with
/// its default, and the table names no setting that does not exist.
#[test]
fn the_readme_documents_exactly_the_known_settings() {
    let readme = include_str!("../../README.md");
    let start = readme.find("## Configuration").expect("configuration section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
    let mut problems = Vec::new();
    for known in KNOWN {
        let quoted = format!("`{}`", known.name);
        let Some(row) = rows.iter().find(|r| r.contains(&quoted)) else {
            problems.push(format!("{} is not in the README's configuration table", known.name));
            continue;
        };
        if let Some(default) = known.default {
            let shown = format!("`{default}`");
            if !row.contains(&shown) {
                problems.push(format!("the README row of {} does not show its default {shown}", known.name));
            }
        }
    }
    for row in rows {
        let names = row.split('|').nth(1).unwrap_or_default();
        for word in names.split('`').filter(|w| w.starts_with(vars::PREFIX) || w.starts_with(vars::OWN_PREFIX)) {
            if !KNOWN.iter().any(|k| k.name == word) {
                problems.push(format!("the README documents {word}, which is not a setting"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn malformed_values_name_the_variable() {
    let err = load(&[(vars::AUTO_LOGIN, "maybe")]).expect_err("must refuse").to_string();
    assert!(err.contains("LANGFLOW_AUTO_LOGIN"), "{err}");
    let err = load(&[(vars::PORT, "http")]).expect_err("must refuse").to_string();
    assert!(err.contains("LANGFLOW_PORT"), "{err}");
}

#[test]
fn unknown_langflow_names_are_collected_and_secrets_redacted() {
    let s = load(&[("LANGFLOW_NOT_A_SETTING", "x"), (vars::SECRET_KEY, "topsecret-0123456789-0123456789-0123")])
        .expect("load");
    assert_eq!(s.unknown_variables, vec!["LANGFLOW_NOT_A_SETTING".to_owned()]);
    assert!(!format!("{s:?}").contains("topsecret"));
    assert!(!s.security_summary().join(" ").contains("topsecret"));
}

#[test]
fn the_environment_fallback_reads_only_listed_unreserved_names() {
    let s = load(&[
        (
            vars::VARIABLES_TO_GET_FROM_ENVIRONMENT,
            "MY_KEY,PATH,LANGFLOW_SECRET_KEY,AWS_SECRET_ACCESS_KEY,lfx_x,db_password",
        ),
        ("MY_KEY", "v1"),
        ("OTHER_KEY", "v2"),
        ("PATH", "/bin"),
        ("LFX_X", "x"),
        ("DB_PASSWORD", "pw"),
        ("AWS_SECRET_ACCESS_KEY", "aws"),
        (vars::SECRET_KEY, &"k".repeat(32)),
    ])
    .expect("load");
    assert_eq!(s.environment_fallback.keys().collect::<Vec<_>>(), ["MY_KEY"]);
    let off = load(&[
        (vars::VARIABLES_TO_GET_FROM_ENVIRONMENT, "MY_KEY"),
        ("MY_KEY", "v1"),
        (vars::FALLBACK_TO_ENV_VAR, "false"),
    ])
    .expect("load");
    assert!(off.environment_fallback.is_empty());
    for reserved in [
        "PATH",
        "home",
        "LANGFLOW_SUPERUSER_PASSWORD",
        "LFX_KEY",
        "FLOWACTOR_X",
        "DATABASE_URL",
        "AWS_ACCESS_KEY_ID",
        "MY_CLIENT_SECRET",
        "GITHUB_TOKEN",
        "",
    ] {
        assert!(is_reserved_environment_name(reserved), "{reserved}");
    }
    for allowed in ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HUGGINGFACEHUB_API_TOKEN", "OLLAMA_BASE_URL"] {
        assert!(!is_reserved_environment_name(allowed), "{allowed}");
    }
}

#[test]
fn short_secret_keys_are_refused() {
    let err = load(&[(vars::SECRET_KEY, "short-secret")]).expect_err("must refuse").to_string();
    assert!(err.contains("LANGFLOW_SECRET_KEY") && err.contains("32 bytes"), "{err}");
    assert!(!err.contains("short-secret"), "{err}");
    assert!(load(&[(vars::SECRET_KEY, &"k".repeat(32))]).is_ok());
}

#[test]
fn env_file_sits_between_file_and_process_env() {
    let dir = tempfile::tempdir().expect("dir");
    let env_file = dir.path().join(".env");
    std::fs::write(&env_file, "LANGFLOW_AUTO_LOGIN=true\nLANGFLOW_PORT=9000\nOPENAI_API_KEY=sk-x\n").expect("write");
    let cfg_file = dir.path().join("flowactor.toml");
    std::fs::write(&cfg_file, "langflow_port = 8000\nlangflow_superuser = \"admin\"\n").expect("write");
    let sources = Sources {
        config_file: Some(cfg_file),
        env_file: Some(env_file),
        env: [(vars::PORT.to_owned(), "9100".to_owned())].into_iter().collect(),
    };
    let s = Settings::load(&sources).expect("load");
    assert!(s.auto_login);
    assert_eq!(s.port, 9100);
    assert_eq!(s.superuser, "admin");
    assert_eq!(s.environment_value(&HashMap::new(), "OPENAI_API_KEY").as_deref(), Some("sk-x"));
}

#[test]
fn the_database_url_accepts_postgresql_only_and_names_the_supported_schemes() {
    assert!(load(&[]).expect("load").database_url.is_none());
    for url in ["postgresql://u:pw@127.0.0.1:5432/db", "postgres://127.0.0.1/db"] {
        let s = load(&[(vars::DATABASE_URL, url)]).expect("load");
        assert_eq!(s.database_url.as_ref().map(Secret::expose), Some(url));
        assert!(!format!("{s:?}").contains("pw@"), "the URL (and its password) is never printed");
    }
    for url in ["sqlite:///./langflow.db", "sqlite+aiosqlite:///x.db", "mysql://h/db", "just-text"] {
        let err = load(&[(vars::DATABASE_URL, url)]).expect_err("must refuse").to_string();
        assert!(err.contains("LANGFLOW_DATABASE_URL"), "{err}");
        assert!(err.contains("postgresql://") && err.contains("postgres://"), "{err}");
    }
    let err = load(&[(vars::DATABASE_URL, "sqlite:///./langflow.db")]).expect_err("refuse").to_string();
    assert!(err.contains("SQLite is not supported"), "{err}");
}
