//! Which environment variables component fields may read: Langflow's default list and the
//! names no flow may ever read.

/// Langflow's default list of component keys read from the environment.
pub const DEFAULT_VARIABLES_FROM_ENVIRONMENT: &[&str] = &[
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_OPENAI_API_INSTANCE_NAME",
    "AZURE_OPENAI_API_DEPLOYMENT_NAME",
    "AZURE_OPENAI_API_EMBEDDINGS_DEPLOYMENT_NAME",
    "ASTRA_DB_APPLICATION_TOKEN",
    "ASTRA_DB_API_ENDPOINT",
    "COHERE_API_KEY",
    "GROQ_API_KEY",
    "HUGGINGFACEHUB_API_TOKEN",
    "MISTRAL_API_KEY",
    "NVIDIA_API_KEY",
    "OLLAMA_BASE_URL",
    "PINECONE_API_KEY",
    "SEARCHAPI_API_KEY",
    "SERPAPI_API_KEY",
    "TAVILY_API_KEY",
    "UPSTASH_VECTOR_REST_URL",
    "UPSTASH_VECTOR_REST_TOKEN",
    "VECTARA_CUSTOMER_ID",
    "VECTARA_CORPUS_ID",
    "VECTARA_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
];

/// Prefixes of names the environment fallback never reads: the server's own configuration
/// and cloud credentials.
const RESERVED_PREFIXES: &[&str] = &["LANGFLOW_", "LFX_", "FLOWACTOR_", "AWS_"];

/// Fragments that mark a name as a server secret wherever they appear.
const RESERVED_FRAGMENTS: &[&str] = &["SECRET", "PASSWORD", "PASSWD", "DATABASE_URL", "CONNECTION_STRING"];

/// Names of process, database, cloud, token-signing and source-control settings that are never
/// flow values (Langflow 1.13's deny-list plus the process environment's own names).
const RESERVED_NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "PWD",
    "OLDPWD",
    "HOSTNAME",
    "TMPDIR",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "SSH_AUTH_SOCK",
    "KUBECONFIG",
    "DOCKER_HOST",
    "SECRET_KEY",
    "PGPASSWORD",
    "MYSQL_PWD",
    "PGVECTOR_CONNECTION_STRING",
    "REDIS_URL",
    "MONGODB_URI",
    "MONGO_URL",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GCP_SA_KEY",
    "SESSION_SECRET",
    "SIGNING_KEY",
    "ENCRYPTION_KEY",
    "JWT_SECRET_KEY",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITLAB_TOKEN",
    "CI_JOB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "NPM_TOKEN",
    "CARGO_REGISTRY_TOKEN",
];

/// Whether the environment fallback must never read `name`, even when it is listed in
/// `LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT` (case-insensitive; an empty name is reserved).
#[must_use]
pub fn is_reserved_environment_name(name: &str) -> bool {
    let upper = name.trim().to_ascii_uppercase();
    upper.is_empty()
        || RESERVED_NAMES.contains(&upper.as_str())
        || RESERVED_PREFIXES.iter().any(|p| upper.starts_with(p))
        || RESERVED_FRAGMENTS.iter().any(|f| upper.contains(f))
}
