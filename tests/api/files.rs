//! File routes over real HTTP: v1 flow-scoped uploads, the legacy upload, v2 user files, the
//! upload size limit, interrupted uploads, and the files of deleted flows and users.

use std::io::{Read, Write};

use serde_json::{json, Value};

use crate::common::{Auth, TestServer};

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/files/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

/// `<YYYY-MM-DD_HH-MM-SS>_<name>`.
fn stamped(stored: &str, name: &str) -> bool {
    let Some(stamp) = stored.strip_suffix(name).and_then(|s| s.strip_suffix('_')) else { return false };
    stamp.len() == 19
        && stamp.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == '_',
            13 | 16 => c == '-',
            _ => c.is_ascii_digit(),
        })
}

fn empty_flow(s: &TestServer, token: &str, name: &str) -> String {
    s.create_flow(Auth::Bearer(token), &json!({"data": {"nodes": [], "edges": []}}), name)
}

/// A multipart body without a `file` field.
fn upload_other_field(s: &TestServer, path: &str, token: &str) -> crate::common::Resp {
    s.upload(path, Auth::Bearer(token), "other", "x.txt", b"x")
}

/// The visible (non-temporary) entries of a directory.
fn entries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn v1_file_routes_in_langflows_shapes() {
    let s = TestServer::start();
    let (_, alice) = s.user("alice");
    let (_, bob) = s.user("bob");
    let flow = empty_flow(&s, &alice, "files");
    let bobs_flow = empty_flow(&s, &bob, "bob files");
    let report = fixture_bytes("report.txt");

    let r = s.upload(&format!("/api/v1/files/upload/{flow}"), Auth::Bearer(&alice), "file", "report.txt", &report);
    r.expect(201);
    assert_eq!(r.json["flowId"], json!(flow));
    let path = r.json["file_path"].as_str().expect("file_path").to_owned();
    let stored = path.strip_prefix(&format!("{flow}/")).expect("flow prefix").to_owned();
    assert!(stamped(&stored, "report.txt"), "{stored}");
    assert_eq!(std::fs::read(s.dir.path().join(&path)).expect("stored bytes"), report);

    // Names keep spaces and non-ASCII; an empty name is the content's SHA-256.
    let r = s.upload(&format!("/api/v1/files/upload/{flow}"), Auth::Bearer(&alice), "file", "sp ace é.txt", b"x");
    assert!(r.expect(201).json["file_path"].as_str().expect("path").ends_with("_sp ace é.txt"));
    let r = s.upload(&format!("/api/v1/files/upload/{flow}"), Auth::Bearer(&alice), "file", "", b"abc");
    assert!(r.expect(201).json["file_path"]
        .as_str()
        .expect("path")
        .ends_with("_ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));

    // Bad input.
    let r = s.upload(&format!("/api/v1/files/upload/{flow}"), Auth::Bearer(&alice), "file", "../../evil.txt", b"e");
    r.expect_detail(500, "Invalid file name: contains path separators");
    let r = s.upload(&format!("/api/v1/files/upload/{flow}"), Auth::Bearer(&alice), "file", "..\\evil.txt", b"e");
    r.expect(500);
    assert!(!s.dir.path().join("evil.txt").exists());
    let r = upload_other_field(&s, &format!("/api/v1/files/upload/{flow}"), &alice);
    r.expect(422);
    assert_eq!(r.json["detail"][0]["loc"], json!(["body", "file"]));
    let r = s.request(
        "POST",
        &format!("/api/v1/files/upload/{flow}"),
        Auth::Bearer(&alice),
        Some("application/json"),
        Some(b"{}"),
    );
    r.expect(422);
    s.upload(&format!("/api/v1/files/upload/{bobs_flow}"), Auth::Bearer(&alice), "file", "a.txt", b"a")
        .expect_detail(404, "Flow not found");
    s.upload(&format!("/api/v1/files/upload/{}", uuid::Uuid::new_v4()), Auth::Bearer(&alice), "file", "a.txt", b"a")
        .expect_detail(404, "Flow not found");
    let r = s.upload("/api/v1/files/upload/not-a-uuid", Auth::Bearer(&alice), "file", "a.txt", b"a");
    assert_eq!(r.expect(422).json["detail"][0]["type"], "uuid_parsing");
    s.upload(&format!("/api/v1/files/upload/{flow}"), Auth::None, "file", "a.txt", b"a")
        .expect_detail(403, "No authentication credentials provided");

    // List.
    let r = s.get(&format!("/api/v1/files/list/{flow}"), Auth::Bearer(&alice));
    let names: Vec<&str> =
        r.expect(200).json["files"].as_array().expect("files").iter().filter_map(Value::as_str).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&stored.as_str()));
    s.get(&format!("/api/v1/files/list/{flow}"), Auth::Bearer(&bob)).expect_detail(404, "Flow not found");
    s.get(&format!("/api/v1/files/list/{flow}"), Auth::None).expect(403);

    // Download.
    let r = s.get(&format!("/api/v1/files/download/{flow}/{stored}"), Auth::Bearer(&alice));
    assert_eq!(r.expect(200).bytes, report);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(
        r.header("content-disposition").map(str::to_owned),
        Some(format!(
            "attachment; filename=\"{stored}\"; filename*=UTF-8''{}",
            stored.replace('-', "%2D").replace('.', "%2E").replace('_', "%5F")
        ))
    );
    s.get(&format!("/api/v1/files/download/{flow}/nope.txt"), Auth::Bearer(&alice))
        .expect_detail(500, &format!("File nope.txt not found in flow {flow}"));
    s.get(&format!("/api/v1/files/download/{flow}/..%2F..%2Fetc%2Fpasswd"), Auth::Bearer(&alice)).expect(404);
    s.get(&format!("/api/v1/files/download/{flow}/{stored}"), Auth::Bearer(&bob)).expect_detail(404, "Flow not found");

    // Images.
    s.get(&format!("/api/v1/files/images/{flow}/{stored}"), Auth::Bearer(&alice))
        .expect_detail(500, "Content type text/plain is not an image");
    let png = b"\x89PNG\r\n\x1a\nfake";
    let r = s.upload(&format!("/api/v1/files/upload/{flow}"), Auth::Bearer(&alice), "file", "pic.png", png);
    let pic = r.expect(201).json["file_path"].as_str().expect("path").rsplit('/').next().expect("name").to_owned();
    let r = s.get(&format!("/api/v1/files/images/{flow}/{pic}"), Auth::Bearer(&alice));
    assert_eq!(r.expect(200).bytes, png);
    assert_eq!(r.header("content-type"), Some("image/png"));

    // Delete: 200 even when missing; another user's flow is not found.
    s.delete(&format!("/api/v1/files/delete/{flow}/{stored}"), Auth::Bearer(&bob)).expect_detail(404, "Flow not found");
    for _ in 0..2 {
        let r = s.delete(&format!("/api/v1/files/delete/{flow}/{stored}"), Auth::Bearer(&alice));
        assert_eq!(r.expect(200).json, json!({"message": format!("File {stored} deleted successfully")}));
    }
    s.get(&format!("/api/v1/files/download/{flow}/{stored}"), Auth::Bearer(&alice)).expect(500);
}

#[test]
fn legacy_upload_is_content_addressed_and_flow_scoped() {
    let s = TestServer::start();
    let (_, alice) = s.user("alice");
    let (_, bob) = s.user("bob");
    let flow = empty_flow(&s, &alice, "legacy");
    let r = s.upload(&format!("/api/v1/upload/{flow}"), Auth::Bearer(&alice), "file", "report.txt", b"abc");
    r.expect(201);
    assert_eq!(r.json["flowId"], json!(flow));
    let path = std::path::PathBuf::from(r.json["file_path"].as_str().expect("path"));
    assert!(path.is_absolute());
    assert!(path.ends_with(format!("{flow}/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.txt")));
    assert_eq!(std::fs::read(&path).expect("bytes"), b"abc");
    s.upload(&format!("/api/v1/upload/{flow}"), Auth::Bearer(&bob), "file", "a.txt", b"a")
        .expect_detail(404, "Flow not found");
    upload_other_field(&s, &format!("/api/v1/upload/{flow}"), &alice).expect(422);
    s.upload(&format!("/api/v1/upload/{flow}"), Auth::None, "file", "a.txt", b"a").expect(403);
}

#[test]
fn v2_files_are_user_scoped_records() {
    let s = TestServer::start();
    let (alice_id, alice) = s.user("alice");
    let (_, bob) = s.user("bob");
    let report = fixture_bytes("report.txt");
    let a = Auth::Bearer(&alice);

    let first = s.upload("/api/v2/files", a, "file", "report.txt", &report);
    first.expect(201);
    let first = first.json.clone();
    assert_eq!(first["name"], "report");
    assert_eq!(first["path"], json!(format!("{alice_id}/report.txt")));
    assert_eq!(first["size"], json!(report.len()));
    assert_eq!(first["provider"], Value::Null);
    let keys: Vec<&str> = first.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "name", "path", "size", "provider"]);
    let second = s.upload("/api/v2/files/", a, "file", "report.txt", &report);
    assert_eq!(second.expect(201).json["name"], "report (1)");
    assert_eq!(second.json["path"], json!(format!("{alice_id}/report (1).txt")));
    let appended = s.upload("/api/v2/files/?append=true", a, "file", "report.txt", b"APPENDED LINE\n");
    assert_eq!(appended.expect(201).json["id"], first["id"]);
    assert_eq!(appended.json["size"], json!(report.len() + 14));
    let eph = s.upload("/api/v2/files?ephemeral=true", a, "file", "ephemeral.txt", b"ephemeral");
    eph.expect(201);
    let notes = s.upload("/api/v2/files", a, "file", "notes.md", &fixture_bytes("notes.md"));
    let notes_id = notes.expect(201).json["id"].as_str().expect("id").to_owned();

    // Bad names and bodies.
    let invalid = "Invalid file name: paths, '..', NUL, CR/LF, and unsafe Unicode formatting are forbidden.";
    for name in ["a..b.txt", "../x.txt", "a\\\\b.txt", "bidi\u{202E}txt.exe"] {
        s.upload("/api/v2/files", a, "file", name, b"x").expect_detail(400, invalid);
    }
    s.upload("/api/v2/files", a, "file", "CON.txt", b"x")
        .expect_detail(400, "Invalid file name. 'CON.txt' is a reserved system name.");
    s.upload("/api/v2/files", a, "file", &format!("{}.txt", "n".repeat(300)), b"x")
        .expect_detail(400, "File name is too long. Maximum 255 bytes allowed.");
    s.upload("/api/v2/files", a, "file", "", b"x").expect_detail(400, "No file provided");
    upload_other_field(&s, "/api/v2/files", &alice).expect(422);
    s.upload("/api/v2/files?append=maybe", a, "file", "x.txt", b"x").expect(422);
    s.upload("/api/v2/files", Auth::None, "file", "x.txt", b"x").expect(403);
    assert!(!s.dir.path().join("x.txt").exists());

    // List: records only (not the ephemeral upload), Langflow's row shape.
    let list = s.get("/api/v2/files", a);
    let rows = list.expect(200).json.as_array().expect("rows").clone();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let keys: Vec<&str> = rows[0].as_object().expect("row").keys().map(String::as_str).collect();
    assert_eq!(keys, ["path", "name", "provider", "updated_at", "user_id", "id", "size", "created_at"]);
    assert!(rows[0]["created_at"].as_str().expect("ts").ends_with('Z'));
    assert!(!rows.iter().any(|r| r["id"] == eph.json["id"]));
    assert_eq!(s.get("/api/v2/files/", Auth::Bearer(&bob)).expect(200).json, json!([]));

    // Read.
    let id = first["id"].as_str().expect("id");
    let r = s.get(&format!("/api/v2/files/{id}"), a);
    assert_eq!(r.expect(200).bytes, [report.as_slice(), b"APPENDED LINE\n"].concat());
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert!(r.header("content-disposition").expect("cd").starts_with("attachment; filename=\"report.txt\";"));
    let r = s.get(&format!("/api/v2/files/{id}?return_content=true"), a);
    assert_eq!(r.expect(200).json, json!(format!("{}APPENDED LINE\n", String::from_utf8_lossy(&report))));
    s.get(&format!("/api/v2/files/{id}"), Auth::Bearer(&bob)).expect_detail(404, "File not found");
    s.get(&format!("/api/v2/files/{}", uuid::Uuid::new_v4()), a).expect_detail(404, "File not found");
    let r = s.get("/api/v2/files/not-a-uuid", a);
    assert_eq!(r.expect(422).json["detail"][0]["loc"], json!(["path", "file_id"]));

    // Rename: the record only.
    let r = s.request("PUT", &format!("/api/v2/files/{notes_id}?name=renamed-notes"), a, None, None);
    assert_eq!(r.expect(200).json["name"], "renamed-notes");
    assert_eq!(r.json["path"], json!(format!("{alice_id}/notes.md")));
    s.request("PUT", &format!("/api/v2/files/{notes_id}?name=bad/name"), a, None, None).expect_detail(400, invalid);
    s.request("PUT", &format!("/api/v2/files/{notes_id}?name=x"), Auth::Bearer(&bob), None, None)
        .expect_detail(404, "File not found");

    // Batch download: a ZIP of the named files.
    let r = s.post("/api/v2/files/batch/", a, &json!([id, notes_id]));
    r.expect(200);
    assert_eq!(r.header("content-type"), Some("application/x-zip-compressed"));
    let cd = r.header("content-disposition").expect("cd");
    let zip_name = cd.strip_prefix("attachment; filename=\"").and_then(|c| c.split('"').next()).expect("name");
    assert!(zip_name.ends_with("_langflow_files.zip") && zip_name.len() == 15 + 19, "{cd}");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.bytes.clone())).expect("zip");
    let mut names: Vec<String> = (0..zip.len()).map(|i| zip.by_index(i).expect("entry").name().to_owned()).collect();
    names.sort();
    assert_eq!(names, ["notes.md", "report.txt"]);
    let mut text = String::new();
    zip.by_name("notes.md").expect("notes").read_to_string(&mut text).expect("read");
    assert_eq!(text.as_bytes(), fixture_bytes("notes.md"));
    s.post("/api/v2/files/batch/", a, &json!("not a list")).expect(422);
    s.post("/api/v2/files/batch/", Auth::Bearer(&bob), &json!([id])).expect(404);

    // Delete.
    s.delete(&format!("/api/v2/files/{id}"), Auth::Bearer(&bob)).expect_detail(404, "File not found");
    let r = s.delete(&format!("/api/v2/files/{id}"), a);
    assert_eq!(r.expect(200).json, json!({"detail": "File report deleted successfully"}));
    s.delete(&format!("/api/v2/files/{id}"), a).expect_detail(404, "File not found");
    assert!(!s.dir.path().join(&alice_id).join("report.txt").exists());
    let r = s.send("DELETE", "/api/v2/files/batch/", a, &json!([notes_id, uuid::Uuid::new_v4()]));
    assert_eq!(r.expect(200).json, json!({"message": "1 files deleted successfully"}));
    s.send("DELETE", "/api/v2/files/batch/", a, &json!([uuid::Uuid::new_v4()]))
        .expect_detail(500, "Error deleting files: 404: No files found");
    assert_eq!(s.get("/api/v2/files", a).expect(200).json.as_array().expect("rows").len(), 1);
}

#[test]
fn uploads_past_the_limit_are_413_json_and_leave_nothing() {
    let s = TestServer::start_with(&[("LANGFLOW_MAX_FILE_SIZE_UPLOAD", "1")]);
    let (_, alice) = s.user("alice");
    let flow = empty_flow(&s, &alice, "big");
    let big = vec![b'x'; 2 * 1024 * 1024];
    for path in [format!("/api/v1/files/upload/{flow}"), format!("/api/v1/upload/{flow}"), "/api/v2/files".to_owned()] {
        let r = s.upload(&path, Auth::Bearer(&alice), "file", "big.txt", &big);
        r.expect(413);
        let got = r.detail().strip_prefix("Content size limit exceeded. Maximum allowed is 1MB and got 1.");
        assert!(got.is_some_and(|g| g.ends_with("MB.")), "{}", r.text);
    }
    // Just under the limit is accepted.
    s.upload("/api/v2/files", Auth::Bearer(&alice), "file", "ok.txt", &vec![b'y'; 1000 * 1024]).expect(201);
    let r = s.get(&format!("/api/v1/files/list/{flow}"), Auth::Bearer(&alice));
    assert_eq!(r.expect(200).json["files"], json!([]));
    assert_eq!(s.get("/api/v2/files", Auth::Bearer(&alice)).json.as_array().expect("rows").len(), 1);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(entries(&s.dir.path().join(".upload-tmp")), Vec::<String>::new());
}

#[test]
fn an_upload_cut_off_mid_body_leaves_no_file() {
    let s = TestServer::start();
    let (_, alice) = s.user("alice");
    let flow = empty_flow(&s, &alice, "cut");
    let addr = s.url.trim_start_matches("http://").to_owned();
    let boundary = "cut-boundary";
    let head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.txt\"\r\n\r\n");
    for path in [format!("/api/v1/files/upload/{flow}"), "/api/v2/files".to_owned()] {
        let mut tcp = std::net::TcpStream::connect(&addr).expect("connect");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {alice}\r\n\
             Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 10000000\r\n\r\n{head}"
        );
        tcp.write_all(request.as_bytes()).expect("write head");
        tcp.write_all(&vec![b'h'; 600 * 1024]).expect("write part");
        tcp.flush().expect("flush");
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(tcp);
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let r = s.get(&format!("/api/v1/files/list/{flow}"), Auth::Bearer(&alice));
    assert_eq!(r.expect(200).json["files"], json!([]));
    assert_eq!(s.get("/api/v2/files", Auth::Bearer(&alice)).expect(200).json, json!([]));
    assert_eq!(entries(&s.dir.path().join(".upload-tmp")), Vec::<String>::new());
}

#[test]
fn files_go_with_their_deleted_flow_and_user() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let (bob_id, bob) = s.user("bob");
    let flow = empty_flow(&s, &bob, "doomed");
    s.upload(&format!("/api/v1/files/upload/{flow}"), Auth::Bearer(&bob), "file", "a.txt", b"a").expect(201);
    s.upload(&format!("/api/v1/upload/{flow}"), Auth::Bearer(&bob), "file", "a.txt", b"a").expect(201);
    s.upload("/api/v2/files", Auth::Bearer(&bob), "file", "b.txt", b"b").expect(201);
    assert!(s.dir.path().join(&flow).is_dir());
    s.delete(&format!("/api/v1/flows/{flow}"), Auth::Bearer(&bob)).expect(200);
    assert!(!s.dir.path().join(&flow).exists());
    assert!(!s.dir.path().join(".upload-cache").join(&flow).exists());
    assert!(s.dir.path().join(&bob_id).join("b.txt").exists());
    s.delete(&format!("/api/v1/users/{bob_id}"), Auth::Bearer(&admin)).expect(202);
    assert!(!s.dir.path().join(&bob_id).exists());
    assert!(!s.dir.path().join(".file-records").join(&bob_id).exists());
}

#[test]
fn the_catalogue_and_the_starter_projects() {
    let s = TestServer::start();
    let (_, alice) = s.user("alice");
    s.get("/api/v1/all", Auth::None).expect_detail(403, "No authentication credentials provided");
    s.get("/api/v1/starter-projects/", Auth::None).expect(403);
    let (_, key) = s.api_key(&alice, "k");
    let all = s.get("/api/v1/all", Auth::Key(&key));
    all.expect(200);
    let expected = flowactor_actors::catalog::langflow_all();
    assert_eq!(all.json, expected);
    let chat_input = &all.json["input_output"]["ChatInput"];
    assert_eq!(chat_input["display_name"], "Chat Input", "{chat_input}");
    assert!(chat_input["template"].is_object() && chat_input["outputs"].is_array());

    let r = s.get("/api/v1/starter-projects/", Auth::Bearer(&alice));
    let list = r.expect(200).json.as_array().expect("list").clone();
    let mut names: Vec<String> = list.iter().map(|p| p["name"].as_str().expect("name").to_owned()).collect();
    let mut shipped: Vec<String> = entries(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flows"))
        .iter()
        .filter(|n| n.ends_with(".json"))
        .map(|n| {
            let text =
                std::fs::read_to_string(format!("{}/examples/flows/{n}", env!("CARGO_MANIFEST_DIR"))).expect("example");
            serde_json::from_str::<Value>(&text).expect("json")["name"].as_str().expect("name").to_owned()
        })
        .collect();
    names.sort();
    shipped.sort();
    assert_eq!(names, shipped);
    for project in &list {
        let keys: Vec<&str> = project.as_object().expect("project").keys().map(String::as_str).collect();
        assert_eq!(keys, ["data", "is_component", "name", "description", "endpoint_name"]);
        assert!(project["data"]["nodes"].is_array() && project["data"]["edges"].is_array());
        assert!(project["data"]["viewport"]["zoom"].is_number());
        // Each starter is a flow this server accepts and runs.
        let id = s.create_flow(Auth::Bearer(&alice), project, &format!("copy of {}", project["name"]));
        s.get(&format!("/api/v1/flows/{id}"), Auth::Bearer(&alice)).expect(200);
    }
}

/// A node of type `kind` whose template holds `values`.
fn node(id: &str, kind: &str, values: &Value) -> Value {
    let template: serde_json::Map<String, Value> =
        values.as_object().expect("values").iter().map(|(k, v)| (k.clone(), json!({"value": v}))).collect();
    json!({"id": id, "type": "genericNode", "data": {"id": id, "type": kind, "node": {"template": template}}})
}

fn edge(source: &str, output: &str, target: &str, field: &str) -> Value {
    json!({
        "source": source, "target": target,
        "data": {
            "sourceHandle": {"dataType": source.split('-').next(), "id": source, "name": output, "output_types": ["Message"]},
            "targetHandle": {"fieldName": field, "id": target, "inputTypes": ["Message", "Data", "DataFrame"], "type": "other"},
        },
    })
}

/// File → Chat Output, reading `paths` with extra File settings.
fn read_file_flow(paths: &[&str], extra: &Value) -> Value {
    let mut values = json!({"path": paths});
    for (k, v) in extra.as_object().expect("extra") {
        values[k] = v.clone();
    }
    let mut file = node("File-1", "File", &values);
    file["data"]["node"]["display_name"] = json!("Read File");
    json!({"data": {
        "nodes": [file, node("ChatOutput-1", "ChatOutput", &json!({"input_value": ""}))],
        "edges": [edge("File-1", "message", "ChatOutput-1", "input_value")],
    }})
}

/// `/run` with a key of the holder of `token`.
fn run_text(s: &TestServer, token: &str, flow: &str) -> crate::common::Resp {
    let (_, key) = s.api_key(token, "run");
    s.post(
        &format!("/api/v1/run/{flow}?stream=false"),
        Auth::Key(&key),
        &json!({"input_value": "", "input_type": "chat", "output_type": "chat"}),
    )
}

fn message_text(r: &crate::common::Resp) -> String {
    r.json["outputs"][0]["outputs"][0]["results"]["message"]["text"].as_str().unwrap_or_default().to_owned()
}

fn run_error(r: &crate::common::Resp) -> String {
    r.expect(500);
    let inner: Value = serde_json::from_str(r.detail()).expect("detail is JSON text");
    inner["message"].as_str().expect("message").to_owned()
}

#[test]
fn read_file_reads_uploads_per_format_within_their_scope() {
    let s = TestServer::start();
    let (alice_id, alice) = s.user("alice");
    let (_, bob) = s.user("bob");
    let a = Auth::Bearer(&alice);
    let flow = empty_flow(&s, &alice, "holder");
    let up = |name: &str| -> String {
        let r = s.upload(&format!("/api/v1/files/upload/{flow}"), a, "file", name, &fixture_bytes(name));
        r.expect(201).json["file_path"].as_str().expect("path").to_owned()
    };
    let report = up("report.txt");
    let csv = up("items.csv");
    let md = up("notes.md");
    let json_path = up("data.json");
    let yaml = up("config.yaml");
    let xml = up("doc.xml");
    let html = up("page.html");
    let exe = up("tool.exe");
    let sheet = {
        let r = s.upload(&format!("/api/v1/files/upload/{flow}"), a, "file", "sheet.xlsx", b"PK fake");
        r.expect(201).json["file_path"].as_str().expect("path").to_owned()
    };
    let text = |name: &str| String::from_utf8(fixture_bytes(name)).expect("utf8");

    // The flow that reads them is the uploads' own flow (v1 paths are flow-scoped).
    let put = |paths: &[&str], extra: &Value| {
        let mut body = read_file_flow(paths, extra);
        body["name"] = json!("holder");
        s.request(
            "PATCH",
            &format!("/api/v1/flows/{flow}"),
            a,
            Some("application/json"),
            Some(body.to_string().as_bytes()),
        )
        .expect(200);
    };
    for (path, expected) in [
        (&report, text("report.txt")),
        (&csv, text("items.csv")),
        (&md, text("notes.md")),
        (&yaml, text("config.yaml")),
        (&xml, text("doc.xml")),
        (&html, text("page.html")),
        (&json_path, r#"{"company":"Acme","revenue":1200,"tags":["a","b"]}"#.to_owned()),
    ] {
        put(&[path.as_str()], &json!({}));
        let r = run_text(&s, &alice, &flow);
        assert_eq!(message_text(r.expect(200)), expected, "{path}");
    }
    put(&[report.as_str(), csv.as_str()], &json!({}));
    assert_eq!(
        message_text(run_text(&s, &alice, &flow).expect(200)),
        format!("{}\n\n{}", text("report.txt"), text("items.csv"))
    );

    // Errors as recorded.
    put(&[exe.as_str()], &json!({}));
    assert!(run_error(&run_text(&s, &alice, &flow)).ends_with("No files to process."));
    put(&[exe.as_str()], &json!({"ignore_unsupported_extensions": false}));
    assert!(run_error(&run_text(&s, &alice, &flow)).ends_with("Unsupported file extension: .exe"));
    put(&[sheet.as_str()], &json!({}));
    let stored = sheet.rsplit('/').next().expect("name");
    assert!(run_error(&run_text(&s, &alice, &flow)).ends_with(&format!(
        "File '{stored}' has extension '.xlsx' which requires Advanced Parser mode. Please enable 'Advanced Parser' to process this file."
    )));
    let missing = format!("{flow}/nope.txt");
    put(&[missing.as_str()], &json!({}));
    let e = run_error(&run_text(&s, &alice, &flow));
    assert!(
        e.contains("Error building Component Read File: \n\nFile not found: '")
            && e.ends_with("Please upload the file again."),
        "{e}"
    );
    let refused = "Access to local file paths outside the authenticated user's storage scope is disabled (LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS=true). Use an uploaded file instead.";
    for bad in ["/etc/passwd", "../../etc/passwd", &format!("{flow}/../../etc/passwd"), "relative.txt"] {
        put(&[bad], &json!({}));
        assert!(run_error(&run_text(&s, &alice, &flow)).ends_with(refused), "{bad}");
    }

    // A v1 path of flow A is refused in flow B; a v2 path works in any flow of its owner only.
    let other = s.create_flow(a, &read_file_flow(&[report.as_str()], &json!({})), "other flow");
    assert!(run_error(&run_text(&s, &alice, &other)).ends_with(refused));
    let v2 = s.upload("/api/v2/files", a, "file", "report.txt", &fixture_bytes("report.txt"));
    let v2_path = v2.expect(201).json["path"].as_str().expect("path").to_owned();
    assert!(v2_path.starts_with(&alice_id));
    let mine = s.create_flow(a, &read_file_flow(&[v2_path.as_str()], &json!({})), "v2 reader");
    assert_eq!(message_text(run_text(&s, &alice, &mine).expect(200)), text("report.txt"));
    let theirs = s.create_flow(Auth::Bearer(&bob), &read_file_flow(&[v2_path.as_str()], &json!({})), "thief");
    assert!(run_error(&run_text(&s, &bob, &theirs)).ends_with(refused));
}

#[test]
fn parser_stringifies_a_table_from_an_uploaded_file() {
    let s = TestServer::start();
    let (_, alice) = s.user("alice");
    let a = Auth::Bearer(&alice);
    let v2 = s.upload("/api/v2/files", a, "file", "report.txt", &fixture_bytes("report.txt"));
    let path = v2.expect(201).json["path"].as_str().expect("path").to_owned();
    let flow = json!({"data": {
        "nodes": [
            node("File-1", "File", &json!({"path": [path]})),
            node("SplitText-1", "SplitText", &json!({"data_inputs": "", "chunk_size": 1000, "chunk_overlap": 0, "separator": "\n"})),
            node("ParserComponent-1", "ParserComponent", &json!({"mode": "Stringify", "input_data": ""})),
            node("ChatOutput-1", "ChatOutput", &json!({"input_value": ""})),
        ],
        "edges": [
            edge("File-1", "message", "SplitText-1", "data_inputs"),
            edge("SplitText-1", "dataframe", "ParserComponent-1", "input_data"),
            edge("ParserComponent-1", "parsed_text", "ChatOutput-1", "input_value"),
        ],
    }});
    let id = s.create_flow(a, &flow, "stringify");
    let text = message_text(run_text(&s, &alice, &id).expect(200));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 3, "{text}");
    assert!(lines[0].starts_with("| ") && lines[0].contains(" text "), "{text}");
    assert!(lines[1].starts_with("|:-"), "{text}");
    assert!(text.contains("Quarterly report"), "{text}");
}

#[test]
fn save_to_file_writes_into_the_users_files_only() {
    let s = TestServer::start();
    let (alice_id, alice) = s.user("alice");
    let a = Auth::Bearer(&alice);
    let (_, key) = s.api_key(&alice, "run");
    let flow = |name: &str, format: &str| {
        json!({"data": {
            "nodes": [
                node("ChatInput-1", "ChatInput", &json!({"input_value": ""})),
                node("SaveToFile-1", "SaveToFile", &json!({"input": "", "file_name": name, "local_format": format, "storage_location": "Local"})),
                node("ChatOutput-1", "ChatOutput", &json!({"input_value": ""})),
            ],
            "edges": [
                edge("ChatInput-1", "message", "SaveToFile-1", "input"),
                edge("SaveToFile-1", "message", "ChatOutput-1", "input_value"),
            ],
        }})
    };
    let run = |id: &str, input: &str| {
        s.post(&format!("/api/v1/run/{id}?stream=false"), Auth::Key(&key), &json!({"input_value": input}))
    };
    let id = s.create_flow(a, &flow("notes", "txt"), "save");
    let r = run(&id, "hello world");
    let text = message_text(r.expect(200));
    assert!(text.starts_with(&format!("Message saved successfully as '{alice_id}/notes.txt' at ")), "{text}");
    let rows = s.get("/api/v2/files", a).expect(200).json.clone();
    assert_eq!(rows.as_array().expect("rows").len(), 1);
    assert_eq!(rows[0]["name"], "notes");
    let file_id = rows[0]["id"].as_str().expect("id");
    assert_eq!(s.get(&format!("/api/v2/files/{file_id}"), a).expect(200).bytes, b"hello world");
    // A second run gets the next free name, as a second upload would.
    run(&id, "again").expect(200);
    assert_eq!(s.get("/api/v2/files", a).json.as_array().expect("rows").len(), 2);

    for bad in ["../escape", "/tmp/abs", "dir/name", "..", "C:evil"] {
        let id = s.create_flow(a, &flow(bad, "txt"), &format!("bad {bad}"));
        let e = run_error(&run(&id, "x"));
        assert!(
            e.ends_with("Local file name must be a file name only, without paths or parent directory references."),
            "{bad}: {e}"
        );
    }
    assert!(!s.dir.path().join("escape.txt").exists() && !std::path::Path::new("/tmp/abs.txt").exists());
    assert_eq!(s.get("/api/v2/files", a).json.as_array().expect("rows").len(), 2);
}
