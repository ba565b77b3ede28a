//! A small web server on 127.0.0.1 for the tool components' tests: pages to crawl, a search
//! endpoint (SearXNG JSON and DuckDuckGo HTML), RSS feeds, and the bad cases (a huge page, a
//! hanging answer, redirects, error statuses), over real HTTP/1.1 on its own thread.
//!
//! | path               | answer                                                              |
//! |--------------------|---------------------------------------------------------------------|
//! | `/page1.html`      | the recorded mock page one (links to 2, 3, an outside page, CSS)   |
//! | `/page2.html`      | page two (links back to one, and to three)                         |
//! | `/page3.html`      | page three (entities)                                              |
//! | `/style.css`       | `text/css`                                                          |
//! | `/plain.txt`, `/data.json` | non-HTML bodies                                             |
//! | `/redirect`        | 302 to `/page3.html`                                                |
//! | `/redirect-loop`   | 302 to itself                                                       |
//! | `/redirect-refused`| 302 to `http://10.0.0.1/secret` (a refused address)                 |
//! | `/status500`, `/missing.html` | 500 / 404 HTML pages                                     |
//! | `/huge`            | an HTML body of [`HUGE_BYTES`] without a length, written until the  |
//! |                    | client stops reading                                                |
//! | `/hang`            | reads the request, never answers                                    |
//! | `/search?q=…`      | SearXNG JSON: page one, page three, and a refused address          |
//! | `/ddg/?q=…`        | DuckDuckGo-style HTML results (links through `uddg=`)               |
//! | `/rss.xml`         | an RSS 2.0 feed with two items                                      |
//! | `/news/search?q=…` | an RSS feed whose item echoes the query                             |
//! | `/empty.xml`       | a feed with no items                                                |
//! | `/arxiv/query?search_query=…&max_results=N` | an arXiv-style Atom answer: `min(N, 3)` papers  |
//! |                    | whose titles echo the query (the first with `arxiv:comment`)        |
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What `/huge` would send if the client read it all.
pub const HUGE_BYTES: usize = 100 * 1024 * 1024;

/// Mock page one, byte for byte as recorded.
pub const PAGE1: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><title>Mock Page One</title>\n<meta name=\"description\" content=\"First mock page for URLComponent\">\n<link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body><h1>Hello from page one</h1>\n<p>The secret number is <b>4242</b>.</p>\n<ul><li><a href=\"/page2.html\">Second page</a></li>\n<li><a href=\"page3.html\">Third page (relative)</a></li>\n<li><a href=\"http://example.invalid/out.html\">Outside link</a></li>\n<li><a href=\"/style.css\">CSS</a></li></ul>\n<script>var x = 1;</script>\n</body></html>";
const PAGE2: &str = "<html><head><title>Mock Page Two</title></head><body><h1>Page two</h1><p>Second page text.</p>\n<a href=\"/page1.html\">back</a> <a href=\"/page3.html\">deeper</a></body></html>";
const PAGE3: &str = "<html><head><title>Mock Page Three</title></head><body><p>Third page text &amp; entities &lt;ok&gt;.</p></body></html>";

#[derive(Default)]
struct State {
    /// Request lines (`GET /path?query`), in arrival order.
    requests: Mutex<Vec<String>>,
    connections: AtomicUsize,
    /// Body bytes `/huge` managed to write before the client went away.
    huge_written: AtomicUsize,
}

pub struct Pages {
    addr: std::net::SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Pages {
    pub fn start() -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the page server");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                let accept = async {
                    loop {
                        let Ok((socket, _)) = listener.accept().await else { continue };
                        served.connections.fetch_add(1, Ordering::SeqCst);
                        let state = served.clone();
                        tokio::spawn(async move {
                            let _ = serve(socket, state, addr).await;
                        });
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Self { addr, state, stop: Some(stop) }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Request lines received so far (`GET /path?query`).
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Body bytes `/huge` wrote before the client stopped reading.
    pub fn huge_written(&self) -> usize {
        self.state.huge_written.load(Ordering::SeqCst)
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn read_head(socket: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 64 * 1024 {
            return Ok(None);
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    Ok(text.lines().next().map(str::to_owned))
}

async fn respond(socket: &mut TcpStream, status: &str, headers: &str, body: &str) -> std::io::Result<()> {
    let head = format!("HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n", body.len());
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body.as_bytes()).await?;
    socket.flush().await
}

fn query_param(target: &str, name: &str) -> String {
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == name {
            let v = v.replace('+', " ");
            // Percent-decoding, enough for the tests' queries.
            let mut out = Vec::new();
            let bytes = v.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 2 < bytes.len() {
                    if let Ok(b) = u8::from_str_radix(&v[i + 1..i + 3], 16) {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                }
                out.push(bytes[i]);
                i += 1;
            }
            return String::from_utf8_lossy(&out).into_owned();
        }
    }
    String::new()
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

async fn serve(mut socket: TcpStream, state: Arc<State>, addr: std::net::SocketAddr) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let Some(line) = read_head(&mut socket).await? else { return Ok(()) };
    state.requests.lock().unwrap().push(line.clone());
    let target = line.split(' ').nth(1).unwrap_or("/").to_owned();
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let base = format!("http://{addr}");
    let html = "content-type: text/html\r\n";
    match path.as_str() {
        "/page1.html" => respond(&mut socket, "200 OK", "content-type: text/html; charset=utf-8\r\n", PAGE1).await,
        "/page2.html" => respond(&mut socket, "200 OK", html, PAGE2).await,
        "/page3.html" => respond(&mut socket, "200 OK", html, PAGE3).await,
        "/style.css" => respond(&mut socket, "200 OK", "content-type: text/css\r\n", "body { color: red; }").await,
        "/plain.txt" => {
            respond(&mut socket, "200 OK", "content-type: text/plain\r\n", "just plain text\nline two").await
        }
        "/data.json" => {
            respond(&mut socket, "200 OK", "content-type: application/json\r\n", "{\"a\": 1, \"b\": [1, 2]}").await
        }
        "/redirect" => respond(&mut socket, "302 Found", "location: /page3.html\r\n", "").await,
        "/redirect-loop" => respond(&mut socket, "302 Found", "location: /redirect-loop\r\n", "").await,
        "/redirect-refused" => respond(&mut socket, "302 Found", "location: http://10.0.0.1/secret\r\n", "").await,
        "/status500" => respond(&mut socket, "500 Internal Server Error", html, "server error page").await,
        "/missing.html" => respond(&mut socket, "404 Not Found", html, "<p>missing</p>").await,
        "/huge" => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body>")
                .await?;
            let block = vec![b'a'; 64 * 1024];
            let mut written = 0;
            while written < HUGE_BYTES {
                if socket.write_all(&block).await.is_err() {
                    break;
                }
                written += block.len();
                state.huge_written.store(written, Ordering::SeqCst);
            }
            Ok(())
        }
        "/hang" => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            Ok(())
        }
        "/search" => {
            let q = query_param(&target, "q");
            let body = serde_json::json!({"query": q, "results": [
                {"title": "Page One", "url": format!("{base}/page1.html"), "content": format!("About {q}")},
                {"title": "Page Three", "url": format!("{base}/page3.html"), "content": "Third"},
                {"title": "Internal", "url": "http://10.0.0.1/admin", "content": "Refused"},
            ]});
            respond(&mut socket, "200 OK", "content-type: application/json\r\n", &body.to_string()).await
        }
        "/ddg/" => {
            let q = escape_xml(&query_param(&target, "q"));
            let link = format!("{base}/page3.html").replace(':', "%3A").replace('/', "%2F");
            let body = format!(
                "<html><body><div class=\"result results_links\"><h2><a class=\"result__a\" \
                 href=\"//duckduckgo.com/l/?uddg={link}&amp;rut=x\">Third page for {q}</a></h2>\
                 <a class=\"result__snippet\">A page about {q}.</a></div></body></html>"
            );
            respond(&mut socket, "200 OK", html, &body).await
        }
        "/rss.xml" => {
            let body = format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Mock feed</title>\
                 <item><title>First item</title><link>{base}/page1.html</link>\
                 <pubDate>Tue, 01 Dec 2026 09:00:00 GMT</pubDate>\
                 <description>&lt;p&gt;Hello &lt;b&gt;feed&lt;/b&gt;&lt;/p&gt;</description></item>\
                 <item><title>Second item</title><link>{base}/page2.html</link>\
                 <pubDate>Mon, 30 Nov 2026 08:30:00 GMT</pubDate><description>Plain summary</description></item>\
                 </channel></rss>"
            );
            respond(&mut socket, "200 OK", "content-type: application/rss+xml\r\n", &body).await
        }
        "/news/search" => {
            let q = escape_xml(&query_param(&target, "q"));
            let hl = escape_xml(&query_param(&target, "hl"));
            let ceid = escape_xml(&query_param(&target, "ceid"));
            let body = format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title>\
                 <item><title>News about {q}</title><link>{base}/page2.html</link>\
                 <pubDate>Tue, 01 Dec 2026 07:00:00 GMT</pubDate>\
                 <description>hl={hl} ceid={ceid}</description></item></channel></rss>"
            );
            respond(&mut socket, "200 OK", "content-type: application/rss+xml\r\n", &body).await
        }
        "/empty.xml" => {
            let body = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Empty</title></channel></rss>";
            respond(&mut socket, "200 OK", "content-type: application/rss+xml\r\n", body).await
        }
        "/arxiv/query" => {
            let q = escape_xml(&query_param(&target, "search_query"));
            let n = query_param(&target, "max_results").parse::<usize>().unwrap_or(10).min(3);
            let entries: String = (1..=n)
                .map(|i| {
                    let comment = if i == 1 { "<arxiv:comment>12 pages, 3 figures</arxiv:comment>" } else { "" };
                    format!(
                        "<entry><id>http://arxiv.org/abs/2601.0000{i}v1</id>\
                         <updated>2026-01-0{i}T10:00:00Z</updated><published>2026-01-0{i}T09:00:00Z</published>\
                         <title>Paper {i} on\n  {q}</title>\
                         <summary>  Abstract {i} about {q} &amp; more.\n</summary>\
                         <author><name>Ada Lovelace</name></author><author><name>Alan Turing {i}</name></author>\
                         {comment}\
                         <link href=\"http://arxiv.org/abs/2601.0000{i}v1\" rel=\"alternate\" type=\"text/html\"/>\
                         <link title=\"pdf\" href=\"http://arxiv.org/pdf/2601.0000{i}v1\" rel=\"related\" \
                         type=\"application/pdf\"/>\
                         <arxiv:primary_category xmlns:arxiv=\"http://arxiv.org/schemas/atom\" term=\"cs.CL\" \
                         scheme=\"http://arxiv.org/schemas/atom\"/>\
                         <category term=\"cs.CL\" scheme=\"http://arxiv.org/schemas/atom\"/>\
                         <category term=\"cs.AI\" scheme=\"http://arxiv.org/schemas/atom\"/></entry>"
                    )
                })
                .collect();
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                 <feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:arxiv=\"http://arxiv.org/schemas/atom\">\
                 <id>http://arxiv.org/api/x</id><title>arXiv Query: {q}</title>\
                 <updated>2026-01-05T00:00:00Z</updated>{entries}</feed>"
            );
            respond(&mut socket, "200 OK", "content-type: application/atom+xml; charset=utf-8\r\n", &body).await
        }
        _ => respond(&mut socket, "404 Not Found", html, "<p>not found</p>").await,
    }
}
