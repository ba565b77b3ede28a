//! Components that read and write uploaded files (Langflow's `files_and_knowledge` category).

use super::{ComponentSpec, Input, Output, Role};

/// Read File (`File`): the text of uploaded files.
pub mod file {
    use super::*;

    /// Extensions the text loader reads.
    pub const TEXT_TYPES: &[&str] = &[
        "csv", "json", "pdf", "txt", "md", "mdx", "yaml", "yml", "xml", "html", "htm", "docx", "py", "sh", "sql", "js",
        "ts", "tsx",
    ];
    /// Extensions only the "Advanced Parser" (Docling) reads.
    pub const ADVANCED_TYPES: &[&str] = &[
        "adoc", "asciidoc", "asc", "bmp", "dotx", "dotm", "docm", "jpg", "jpeg", "png", "potx", "ppsx", "pptm", "potm",
        "ppsm", "pptx", "tiff", "xls", "xlsx", "xhtml", "webp",
    ];

    pub const PATH: Input = Input::text("path", "Files")
        .list()
        .info("Supported file extensions: csv, json, pdf, txt, md, mdx, yaml, yml, xml, html, htm, docx, py, sh, sql, js, ts, tsx");
    pub const FILE_PATH: Input = Input::handle("file_path", "Server File Path", &["Data", "Message"])
        .list()
        .advanced()
        .info("Data object with a 'file_path' property pointing to server file or a Message object with a path to the file. Supercedes 'Path' but supports same file types.");
    pub const SEPARATOR: Input = Input::text("separator", "Separator")
        .value("\n\n")
        .advanced()
        .info("Specify the separator to use between multiple outputs in Message format.");
    pub const SILENT_ERRORS: Input = Input::bool("silent_errors", "Silent Errors", false)
        .advanced()
        .info("If true, errors will not raise an exception.");
    pub const DELETE_AFTER: Input =
        Input::bool("delete_server_file_after_processing", "Delete Server File After Processing", true)
            .advanced()
            .info("If true, the Server File Path will be deleted after processing.");
    pub const IGNORE_UNSUPPORTED: Input =
        Input::bool("ignore_unsupported_extensions", "Ignore Unsupported Extensions", true)
            .advanced()
            .info("If true, files with unsupported extensions will not be processed.");
    pub const IGNORE_UNSPECIFIED: Input = Input::bool("ignore_unspecified_files", "Ignore Unspecified Files", false)
        .advanced()
        .info("If true, Data with no 'file_path' property will be ignored.");
    pub const ADVANCED_MODE: Input = Input::bool("advanced_mode", "Advanced Parser", false)
        .info("Enable advanced document processing and export with Docling for PDFs, images, and office documents.");

    pub const MESSAGE: Output = Output::new("message", "Raw Content", &["Message"], "load_files_message");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "File",
        aliases: &[],
        class_name: "FileComponent",
        category: "files_and_knowledge",
        display_name: "Read File",
        description: "Loads and returns the content from uploaded files.",
        icon: "file-text",
        role: Role::Other,
        test_only: false,
        inputs: &[
            PATH,
            FILE_PATH,
            SEPARATOR,
            SILENT_ERRORS,
            DELETE_AFTER,
            IGNORE_UNSUPPORTED,
            IGNORE_UNSPECIFIED,
            ADVANCED_MODE,
        ],
        outputs: &[MESSAGE],
    };
}

/// Save File (`SaveToFile`): writes its input into the user's files (never an arbitrary path).
pub mod save_to_file {
    use super::*;

    pub const INPUT: Input =
        Input::handle("input", "File Content", &["Data", "DataFrame", "Message"]).required().info("The input to save.");
    pub const FILE_NAME: Input =
        Input::text("file_name", "File Name").required().info("Name file will be saved as (without extension).");
    pub const STORAGE_LOCATION: Input = Input::dropdown("storage_location", "Storage Location", &["Local"])
        .value("Local")
        .info("Choose where to save the file.");
    pub const LOCAL_FORMAT: Input =
        Input::dropdown("local_format", "File Format", &["csv", "json", "markdown", "txt", "html"])
            .info("Select the file format for local storage.");
    pub const APPEND_MODE: Input = Input::bool("append_mode", "Append", false)
        .info("Append to file if it exists (only for plain text formats). Disabled for binary formats like Excel.");

    pub const MESSAGE: Output = Output::new("message", "File Path", &["Message"], "save_to_file");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "SaveToFile",
        aliases: &[],
        class_name: "SaveToFileComponent",
        category: "files_and_knowledge",
        display_name: "Write File",
        description: "Save data to local file, AWS S3, or Google Drive in the selected format.",
        icon: "file-text",
        role: Role::Other,
        test_only: false,
        inputs: &[INPUT, FILE_NAME, STORAGE_LOCATION, LOCAL_FORMAT, APPEND_MODE],
        outputs: &[MESSAGE],
    };
}

/// Memory Base (`MemoryBase`): retrieval from a vector-store Memory Base attached to the flow
/// (tool `retrieve_memory`). flowactor has no Memory Bases (`/api/v1/memories`), so a selected
/// one is never attached; the checks before the search answer as Langflow's do.
pub mod memory_base {
    use super::*;

    pub const MEMORY_BASE: Input = Input::dropdown("memory_base", "Memory Base", &[])
        .required()
        .info("Memory Base whose captured conversation history will be searched.");
    pub const SEARCH_QUERY: Input = Input::message("search_query", "Search Query")
        .tool_mode()
        .info("Query used for semantic retrieval against the memory base.");
    pub const TOP_K: Input =
        Input::int("top_k", "Top K Results", 5).advanced().info("Number of top results to return.");
    pub const INCLUDE_METADATA: Input = Input::bool("include_metadata", "Include Metadata", true)
        .advanced()
        .info("Include chunk metadata (session_id, sender, timestamp, …) on each row.");
    pub const FILTER_BY_SESSION: Input = Input::bool("filter_by_session", "Filter by Session", true).advanced().info(
        "If enabled, only memories from the current session will be retrieved. Disable to allow retrieval across \
         every session ingested into this Memory Base (useful for cross-conversation recall).",
    );

    pub const RETRIEVE_DATA: Output = Output::new("retrieve_data", "Results", &["DataFrame"], "retrieve_memory").info(
        "Returns matching memory chunks. Scoped to the current session by default; turn 'Filter by Session' off to \
         retrieve across sessions.",
    );

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "MemoryBase",
        aliases: &[],
        class_name: "MemoryBaseComponent",
        category: "files_and_knowledge",
        display_name: "Memory Base",
        description: "Retrieve long-term memory from a Memory Base attached to this workflow. When 'Filter by \
                      Session' is off, queries run across all sessions.",
        icon: "brain",
        role: Role::Other,
        test_only: false,
        inputs: &[MEMORY_BASE, SEARCH_QUERY, TOP_K, INCLUDE_METADATA, FILTER_BY_SESSION],
        outputs: &[RETRIEVE_DATA],
    };
}
