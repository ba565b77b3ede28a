//! Tool components: each runs standalone in a flow and, through its `tool_mode` inputs, as an
//! agent's tool (Langflow's `data_source`, `utilities` and `search` components).

use super::{ComponentSpec, DefaultValue, Input, InputType, Output, Role};

/// URL: fetches pages (and the pages they link to, up to `max_depth`) through the outbound
/// address policy.
pub mod url {
    use super::*;

    pub const URLS: Input = Input::message("urls", "URLs")
        .list()
        .tool_mode()
        .info("Enter one or more URLs to crawl recursively, by clicking the '+' button.");
    pub const MAX_DEPTH: Input = Input::int("max_depth", "Depth", 1).info(
        "Controls how many 'clicks' away from the initial page the crawler will go:\n- depth 1: only the initial \
         page\n- depth 2: initial page + all pages linked directly from it\n- depth 3: initial page + direct links \
         + links found on those direct link pages\nNote: This is about link traversal, not URL path depth.",
    );
    pub const PREVENT_OUTSIDE: Input = Input::bool("prevent_outside", "Prevent Outside", true).advanced().info(
        "If enabled, only crawls URLs within the same domain as the root URL. This helps prevent the crawler from \
         going to external websites.",
    );
    pub const USE_ASYNC: Input = Input::bool("use_async", "Use Async", true).advanced().info(
        "If enabled, uses asynchronous loading which can be significantly faster but might use more system \
         resources.",
    );
    pub const FOLLOW_REDIRECTS: Input = Input::bool("follow_redirects", "Follow Redirects", true).advanced().info(
        "If enabled, follows HTTP redirects such as http→https or www/non-www normalization, which most sites rely \
         on to serve their content. When SSRF protection is enabled, each redirect hop is validated.",
    );
    pub const FORMAT: Input =
        Input::dropdown("format", "Output Format", &["Text", "HTML", "Markdown"]).value("Text").advanced().info(
            "Output Format. Use 'Text' to extract the text from the HTML, 'Markdown' to parse the HTML into Markdown \
             format, or 'HTML' for the raw HTML content.",
        );
    pub const TIMEOUT: Input =
        Input::int("timeout", "Timeout", 30).advanced().info("Timeout for the request in seconds.");
    pub const HEADERS: Input = Input::of_type("headers", "Headers", InputType::Table)
        .default(DefaultValue::List)
        .advanced()
        .info("The headers to send with the request");
    pub const FILTER_TEXT_HTML: Input = Input::bool("filter_text_html", "Filter Text/HTML", true)
        .advanced()
        .info("If enabled, filters out text/css content type from the results.");
    pub const CONTINUE_ON_FAILURE: Input = Input::bool("continue_on_failure", "Continue on Failure", true)
        .advanced()
        .info("If enabled, continues crawling even if some requests fail.");
    pub const CHECK_RESPONSE_STATUS: Input = Input::bool("check_response_status", "Check Response Status", false)
        .advanced()
        .info("If enabled, checks the response status of the request.");
    pub const AUTOSET_ENCODING: Input = Input::bool("autoset_encoding", "Autoset Encoding", true)
        .advanced()
        .info("If enabled, automatically sets the encoding of the request.");

    pub const PAGE_RESULTS: Output = Output::new("page_results", "Extracted Pages", &["Table"], "fetch_content");
    pub const RAW_RESULTS: Output =
        Output::new("raw_results", "Raw Content", &["Message"], "fetch_content_as_message").not_tool();

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "URLComponent",
        aliases: &[],
        class_name: "URLComponent",
        category: "data_source",
        display_name: "URL",
        description: "Fetch content from one or more web pages, following links recursively.",
        icon: "layout-template",
        role: Role::Other,
        test_only: false,
        inputs: &[
            URLS,
            MAX_DEPTH,
            PREVENT_OUTSIDE,
            USE_ASYNC,
            FOLLOW_REDIRECTS,
            FORMAT,
            TIMEOUT,
            HEADERS,
            FILTER_TEXT_HTML,
            CONTINUE_ON_FAILURE,
            CHECK_RESPONSE_STATUS,
            AUTOSET_ENCODING,
        ],
        outputs: &[PAGE_RESULTS, RAW_RESULTS],
    };
}

/// Calculator: `+ - * / **` over numbers (the Agent's built-in `evaluate_expression`).
pub mod calculator {
    use super::*;

    pub const EXPRESSION: Input = Input::message("expression", "Expression")
        .tool_mode()
        .info("The arithmetic expression to evaluate (e.g., '4*4*(33/22)+12-20').");
    pub const RESULT: Output = Output::new("result", "Data", &["Data"], "evaluate_expression");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "CalculatorComponent",
        aliases: &[],
        class_name: "CalculatorComponent",
        category: "utilities",
        display_name: "Calculator",
        description: "Perform basic arithmetic operations on a given expression.",
        icon: "calculator",
        role: Role::Other,
        test_only: false,
        inputs: &[EXPRESSION],
        outputs: &[RESULT],
    };
}

/// Web Search: a web search endpoint, a news RSS search, or an RSS feed.
pub mod web_search {
    use super::*;

    pub const SEARCH_MODE: Input = Input::tab("search_mode", "Search Mode", &["Web", "News", "RSS"])
        .value("Web")
        .tool_mode()
        .info("Choose search mode: Web (DuckDuckGo), News (Google News), or RSS (Feed Reader)");
    pub const QUERY: Input =
        Input::message("query", "Search Query").required().tool_mode().info("Search keywords for news articles.");
    pub const HL: Input =
        Input::message("hl", "Language (hl)").advanced().info("Language code, e.g. en-US, fr, de. Default: en-US.");
    pub const GL: Input =
        Input::message("gl", "Country (gl)").advanced().info("Country code, e.g. US, FR, DE. Default: US.");
    pub const CEID: Input = Input::message("ceid", "Country:Language (ceid)")
        .value("US:en")
        .advanced()
        .info("e.g. US:en, FR:fr. Default: US:en.");
    pub const TOPIC: Input = Input::message("topic", "Topic")
        .advanced()
        .info("One of: WORLD, NATION, BUSINESS, TECHNOLOGY, ENTERTAINMENT, SCIENCE, SPORTS, HEALTH.");
    pub const LOCATION: Input = Input::message("location", "Location (Geo)")
        .advanced()
        .info("City, state, or country for location-based news. Leave blank for keyword search.");
    pub const TIMEOUT: Input =
        Input::int("timeout", "Timeout", 5).advanced().info("Timeout for the request in seconds.");
    pub const MAX_RESULTS: Input = Input::int("max_results", "Max Results", 5)
        .advanced()
        .info("Maximum number of results to return. Set to 0 to return every result.");
    pub const MAX_CONTENT_LENGTH: Input = Input::int("max_content_length", "Max Content Length", 2000).advanced().info(
        "Maximum number of characters kept from each scraped page or feed field. Set to 0 to keep the full text.",
    );

    pub const RESULTS: Output = Output::new("results", "Results", &["Table"], "perform_search");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "UnifiedWebSearch",
        aliases: &["WebSearchComponent"],
        class_name: "WebSearchComponent",
        category: "data_source",
        display_name: "Web Search",
        description: "Search the web, news, or RSS feeds.",
        icon: "search",
        role: Role::Other,
        test_only: false,
        inputs: &[SEARCH_MODE, QUERY, HL, GL, CEID, TOPIC, LOCATION, TIMEOUT, MAX_RESULTS, MAX_CONTENT_LENGTH],
        outputs: &[RESULTS],
    };
}

/// SQL Database: one query against a SQLite or PostgreSQL URL.
pub mod sql {
    use super::*;

    pub const DATABASE_URL: Input = Input::message("database_url", "Database URL").required();
    pub const QUERY: Input = Input::message("query", "SQL Query").multiline().required().tool_mode();
    pub const INCLUDE_COLUMNS: Input = Input::bool("include_columns", "Include Columns", true).advanced().tool_mode();
    pub const ADD_ERROR: Input = Input::bool("add_error", "Add Error", false)
        .advanced()
        .tool_mode()
        .info("If True, the error will be added to the result");

    pub const RUN_SQL_QUERY: Output = Output::new("run_sql_query", "Result Table", &["DataFrame"], "run_sql_query");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "SQLComponent",
        aliases: &[],
        class_name: "SQLComponent",
        category: "data_source",
        display_name: "SQL Database",
        description: "Executes SQL queries on SQLAlchemy-compatible databases.",
        icon: "database",
        role: Role::Other,
        test_only: false,
        inputs: &[DATABASE_URL, QUERY, INCLUDE_COLUMNS, ADD_ERROR],
        outputs: &[RUN_SQL_QUERY],
    };
}

/// arXiv: searches arXiv's Atom API (`FLOWACTOR_ARXIV_URL`) for papers (tool
/// `search_papers_dataframe`).
pub mod arxiv {
    use super::*;

    pub const SEARCH_QUERY: Input = Input::message("search_query", "Search Query")
        .tool_mode()
        .info("The search query for arXiv papers (e.g., 'quantum computing')");
    pub const SEARCH_TYPE: Input =
        Input::dropdown("search_type", "Search Field", &["all", "title", "abstract", "author", "cat"])
            .value("all")
            .info("The field to search in");
    pub const MAX_RESULTS: Input =
        Input::int("max_results", "Max Results", 10).info("Maximum number of results to return");

    pub const DATAFRAME: Output = Output::new("dataframe", "Table", &["Table"], "search_papers_dataframe");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "ArXivComponent",
        aliases: &[],
        class_name: "ArXivComponent",
        category: "arxiv",
        display_name: "arXiv",
        description: "Search and retrieve papers from arXiv.org.",
        icon: "arXiv",
        role: Role::Other,
        test_only: false,
        inputs: &[SEARCH_QUERY, SEARCH_TYPE, MAX_RESULTS],
        outputs: &[DATAFRAME],
    };
}
