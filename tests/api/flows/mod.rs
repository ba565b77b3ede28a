//! `/api/v1/flows`: create with Langflow's renaming rules, list modes, read,
//! PATCH/PUT/DELETE with `ETag` / `If-Match`, batch, and the two-user isolation matrix; upload and
//! download in `files`, the reference flows' numbers and durability across SIGKILL in `fidelity`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fidelity;
mod files;

use std::io::Read;

use crate::common::{fixture, Auth, Resp, TestServer, FIXTURES};
use serde_json::{json, Value};

pub(super) fn graph() -> Value {
    json!({"nodes": [], "edges": []})
}

pub(super) fn flow(name: &str) -> Value {
    json!({"name": name, "data": graph()})
}

pub(super) fn id_of(r: &Resp) -> String {
    r.json["id"].as_str().expect("id").to_owned()
}

pub(super) fn etag_of(r: &Resp) -> String {
    r.header("etag").expect("etag").to_owned()
}

#[test]
fn create_forces_the_owner_and_renames_like_langflow() {
    let s = TestServer::start();
    let (a_id, a) = s.user("alice");
    let (b_id, _) = s.user("bob");
    let r = s.post(
        "/api/v1/flows/",
        Auth::Bearer(&a),
        &json!({"name": "X", "data": graph(), "user_id": b_id, "endpoint_name": "ep", "fs_path": "/tmp/pwn-flowactor"}),
    );
    r.expect(201);
    assert_eq!(r.json["user_id"], a_id.as_str());
    for key in [
        "name",
        "description",
        "icon",
        "icon_bg_color",
        "gradient",
        "data",
        "is_component",
        "updated_at",
        "webhook",
        "endpoint_name",
        "tags",
        "locked",
        "mcp_enabled",
        "action_name",
        "action_description",
        "access_type",
        "id",
        "user_id",
        "folder_id",
    ] {
        assert!(r.json.get(key).is_some(), "{key} missing: {}", r.text);
    }
    assert!(r.json.get("fs_path").is_none());
    assert!(!std::path::Path::new("/tmp/pwn-flowactor").exists());
    assert_eq!(r.json["access_type"], "PRIVATE");
    assert_eq!(r.json["tags"], json!([]));
    let updated = r.json["updated_at"].as_str().unwrap();
    assert!(updated.ends_with("+00:00") && updated.len() == 25 && !updated.contains('.'), "{updated}");
    let names: Vec<(String, String)> = (0..3)
        .map(|_| {
            let r = s.post(
                "/api/v1/flows/",
                Auth::Bearer(&a),
                &json!({"name": "X", "data": graph(), "endpoint_name": "ep"}),
            );
            r.expect(201);
            (r.json["name"].as_str().unwrap().to_owned(), r.json["endpoint_name"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        names,
        [("X (1)".into(), "ep-1".into()), ("X (2)".into(), "ep-2".into()), ("X (3)".into(), "ep-3".into())]
    );
    // Names are per user: bert's "X" is just "X".
    let (_, b) = s.user("bert");
    assert_eq!(s.post("/api/v1/flows/", Auth::Bearer(&b), &flow("X")).json["name"], "X");

    // The default project receives flows without (or with someone else's) folder.
    let projects = s.get("/api/v1/projects/", Auth::Bearer(&a));
    assert_eq!(projects.json[0]["name"], "Starter Project");
    assert_eq!(r.json["folder_id"], projects.json[0]["id"]);

    let webhook = json!({"nodes": [{"id": "w", "data": {"type": "Webhook"}}], "edges": []});
    let r = s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "hook", "data": webhook}));
    assert_eq!(r.json["webhook"], true);
    let r = s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "empty", "data": {}}));
    r.expect(201);
    assert_eq!(r.json["data"], json!({}));
    assert_eq!(r.json["webhook"], false);
    let r = s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "null data"}));
    r.expect(201);
    assert_eq!(r.json["data"], Value::Null);
}

#[test]
fn create_refuses_malformed_flows_with_422() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let cases = [
        (json!({"data": graph()}), "name", "Field required"),
        (json!({"name": "n", "data": {"edges": []}}), "data", "Value error, Flow must have nodes"),
        (json!({"name": "n", "data": {"nodes": []}}), "data", "Value error, Flow must have edges"),
        (json!({"name": "n", "data": [1]}), "data", "Input should be a valid dictionary"),
        (
            json!({"name": "n", "endpoint_name": "has space"}),
            "endpoint_name",
            "Value error, Endpoint name must contain only letters, numbers, hyphens, and underscores",
        ),
        (json!({"name": "n", "endpoint_name": ""}), "endpoint_name", ""),
        (json!({"name": "x".repeat(256)}), "name", ""),
        (json!({"name": "a\u{0}b"}), "name", ""),
        (json!({"name": "n", "description": "d".repeat(64 * 1024 + 1)}), "description", ""),
        (
            json!({"name": "n", "icon_bg_color": "red"}),
            "icon_bg_color",
            "Value error, Icon background color must start with #",
        ),
        (json!({"name": "n", "access_type": "SHARED"}), "access_type", ""),
        (json!({"name": "n", "folder_id": "nope"}), "folder_id", "Input should be a valid UUID"),
        (json!({"name": "n", "tags": "t"}), "tags", ""),
        (json!({"name": 5}), "name", "Input should be a valid string"),
    ];
    for (body, field, msg) in cases {
        let r = s.post("/api/v1/flows/", Auth::Bearer(&a), &body);
        r.expect(422);
        assert_eq!(r.json["detail"][0]["loc"], json!(["body", field]), "{}", r.text);
        if !msg.is_empty() {
            assert_eq!(r.json["detail"][0]["msg"], msg, "{}", r.text);
        }
    }
    s.request("POST", "/api/v1/flows/", Auth::Bearer(&a), Some("application/json"), Some(b"{bad")).expect(422);
    s.post("/api/v1/flows/", Auth::Bearer(&a), &json!([1])).expect(422);
    assert_eq!(s.get("/api/v1/flows/", Auth::Bearer(&a)).json, json!([]));
}

/// The store names the broken rule; the HTTP layer words it as pydantic does.
#[test]
fn field_rules_refused_by_the_store_are_worded_like_pydantic() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let too_many_tags: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
    let cases = [
        (json!({"name": "x".repeat(256)}), "name", "String should have at most 255 characters".to_owned()),
        (json!({"name": "a\u{0}b"}), "name", "String should not contain NUL characters".to_owned()),
        (
            json!({"name": "n", "description": "d".repeat(64 * 1024 + 1)}),
            "description",
            format!("String should have at most {} bytes", 64 * 1024),
        ),
        (json!({"name": "n", "tags": too_many_tags}), "tags", "List should have at most 100 items".to_owned()),
        (
            json!({"name": "n", "icon_bg_color": "#12345"}),
            "icon_bg_color",
            "Value error, Icon background color must be 7 characters long".to_owned(),
        ),
    ];
    for (body, field, msg) in cases {
        let r = s.post("/api/v1/flows/", Auth::Bearer(&a), &body);
        r.expect(422);
        assert_eq!(r.json["detail"][0]["type"], "value_error", "{}", r.text);
        assert_eq!(r.json["detail"][0]["loc"], json!(["body", field]), "{}", r.text);
        assert_eq!(r.json["detail"][0]["msg"], msg, "{}", r.text);
    }
    let r = s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "p".repeat(256)}));
    r.expect(422);
    assert_eq!(r.json["detail"][0]["msg"], "String should have at most 255 characters", "{}", r.text);
    assert_eq!(s.get("/api/v1/flows/", Auth::Bearer(&a)).json, json!([]));
}

#[test]
fn every_reference_flow_round_trips_unchanged_through_post_and_upload() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let (_, b) = s.user("bob");
    for name in FIXTURES {
        let doc = fixture(name);
        let r = s.post("/api/v1/flows/", Auth::Bearer(&a), &doc);
        r.expect(201);
        if let Some(id) = doc.get("id") {
            assert_eq!(&r.json["id"], id, "{name}: an explicit id is honoured");
        }
        let read = s.get(&format!("/api/v1/flows/{}", id_of(&r)), Auth::Bearer(&a));
        read.expect(200);
        assert_eq!(read.json["data"], doc["data"], "{name}: data changed after POST");
        assert_eq!(read.json["name"], doc["name"]);
        assert_eq!(read.json["description"], doc["description"]);

        // Bob uploads the same export: its id belongs to alice, so bob's copy gets a new one.
        let bytes = serde_json::to_vec(&doc).unwrap();
        let up = s.upload("/api/v1/flows/upload/", Auth::Bearer(&b), "file", name, &bytes);
        up.expect(201);
        let copy = &up.json[0];
        assert_ne!(copy["id"], r.json["id"]);
        let read = s.get(&format!("/api/v1/flows/{}", copy["id"].as_str().unwrap()), Auth::Bearer(&b));
        assert_eq!(read.json["data"], doc["data"], "{name}: data changed after upload");

        // Alice uploading her own export again (it carries her flow's id) updates it in place.
        let mut own = doc.clone();
        own["id"] = r.json["id"].clone();
        let again = s.upload("/api/v1/flows/upload/", Auth::Bearer(&a), "file", name, own.to_string().as_bytes());
        again.expect(201);
        assert_eq!(again.json[0]["id"], r.json["id"]);
        assert_eq!(again.json[0]["folder_id"], r.json["folder_id"]);
        assert_eq!(again.json[0]["name"], doc["name"]);
    }
    assert_eq!(s.get("/api/v1/flows/", Auth::Bearer(&a)).json.as_array().unwrap().len(), FIXTURES.len());
}

#[test]
fn list_modes_pages_and_gzip() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let project = s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "P"}));
    let project_id = id_of(&project);
    for i in 0..3 {
        s.post("/api/v1/flows/", Auth::Bearer(&a), &flow(&format!("f{i}"))).expect(201);
    }
    s.post(
        "/api/v1/flows/",
        Auth::Bearer(&a),
        &json!({"name": "comp", "data": graph(), "is_component": true, "folder_id": project_id}),
    )
    .expect(201);

    let all = s.get("/api/v1/flows/", Auth::Bearer(&a));
    all.expect(200);
    assert_eq!(all.json.as_array().unwrap().len(), 4);
    assert!(all.header("content-encoding").is_none());

    let headers = s.get("/api/v1/flows/?header_flows=true", Auth::Bearer(&a));
    let first = headers.json.as_array().unwrap().iter().find(|f| f["name"] == "f0").unwrap().clone();
    let mut keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_type",
            "action_description",
            "action_name",
            "data",
            "description",
            "endpoint_name",
            "folder_id",
            "id",
            "is_component",
            "mcp_enabled",
            "name",
            "tags"
        ]
    );
    assert_eq!(first["data"], Value::Null);
    let comp = headers.json.as_array().unwrap().iter().find(|f| f["name"] == "comp").unwrap().clone();
    assert_eq!(comp["data"], graph());

    let comps = s.get("/api/v1/flows/?components_only=true", Auth::Bearer(&a));
    assert_eq!(comps.json.as_array().unwrap().len(), 1);
    let in_project = s.get(&format!("/api/v1/flows/?folder_id={project_id}"), Auth::Bearer(&a));
    assert_eq!(in_project.json.as_array().unwrap().len(), 1);

    let page = s.get("/api/v1/flows/?get_all=false&page=2&size=2", Auth::Bearer(&a));
    page.expect(200);
    assert_eq!(page.json["total"], 3, "the default project holds the three plain flows: {}", page.text);
    assert_eq!(page.json["page"], 2);
    assert_eq!(page.json["size"], 2);
    assert_eq!(page.json["pages"], 2);
    assert_eq!(page.json["items"].as_array().unwrap().len(), 1);
    let page = s.get(&format!("/api/v1/flows/?get_all=false&folder_id={project_id}"), Auth::Bearer(&a));
    assert_eq!(page.json["total"], 1);
    assert_eq!(page.json["size"], 50);
    s.get("/api/v1/flows/?get_all=false&size=101", Auth::Bearer(&a)).expect(422);
    s.get("/api/v1/flows/?get_all=false&page=0", Auth::Bearer(&a)).expect(422);
    s.get("/api/v1/flows/?get_all=maybe", Auth::Bearer(&a)).expect(422);
    s.get("/api/v1/flows/?folder_id=nope", Auth::Bearer(&a)).expect(422);

    let gz = s.request_with("GET", "/api/v1/flows/", Auth::Bearer(&a), &[("Accept-Encoding", "gzip")], None, None);
    gz.expect(200);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.bytes.as_slice()).read_to_string(&mut text).expect("gunzip");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), all.json);

    let examples = s.get("/api/v1/flows/basic_examples/", Auth::None);
    examples.expect(200);
    assert_eq!(examples.json, json!([]));
}

#[test]
fn read_patch_put_delete_follow_langflow() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let created =
        s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "one", "data": graph(), "endpoint_name": "one"}));
    let id = id_of(&created);
    let url = format!("/api/v1/flows/{id}");
    let other =
        s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "two", "data": graph(), "endpoint_name": "two"}));
    let other_id = id_of(&other);

    let read = s.get(&url, Auth::Bearer(&a));
    read.expect(200);
    assert_eq!(read.json, created.json);
    assert_eq!(etag_of(&read), etag_of(&created));
    let bad = s.get("/api/v1/flows/not-a-uuid", Auth::Bearer(&a));
    bad.expect(422);
    assert_eq!(bad.json["detail"][0]["type"], "uuid_parsing");
    assert_eq!(bad.json["detail"][0]["loc"], json!(["path", "flow_id"]));
    s.get(&format!("/api/v1/flows/{}", uuid::Uuid::new_v4()), Auth::Bearer(&a)).expect_detail(404, "Flow not found");

    // PATCH applies present, non-null fields; endpoint_name "" or null clears it.
    let r = s.patch(
        &url,
        Auth::Bearer(&a),
        &json!({"name": "uno", "description": null, "folder_id": null, "locked": true}),
    );
    r.expect(200);
    assert_eq!(r.json["name"], "uno");
    assert_eq!(r.json["locked"], true);
    assert_eq!(r.json["endpoint_name"], "one");
    assert_eq!(r.json["folder_id"], created.json["folder_id"]);
    assert_ne!(etag_of(&r), etag_of(&created));
    let r = s.patch(&url, Auth::Bearer(&a), &json!({"endpoint_name": ""}));
    assert_eq!(r.json["endpoint_name"], Value::Null);
    s.patch(&url, Auth::Bearer(&a), &json!({"name": "two"})).expect_detail(400, "Name must be unique");
    s.patch(&url, Auth::Bearer(&a), &json!({"endpoint_name": "two"}))
        .expect_detail(400, "Endpoint name must be unique");
    s.patch(&url, Auth::Bearer(&a), &json!({"data": {"nodes": []}})).expect(422);
    let r = s.patch(&url, Auth::Bearer(&a), &json!({"folder_id": uuid::Uuid::new_v4()}));
    assert_eq!(r.json["folder_id"], created.json["folder_id"], "an unknown folder means the default project");
    s.patch(&format!("/api/v1/flows/{}", uuid::Uuid::new_v4()), Auth::Bearer(&a), &json!({"name": "z"}))
        .expect_detail(404, "Flow not found");

    // PUT: update → 200, create with the path id → 201, conflicts → 409.
    let r = s.put(&url, Auth::Bearer(&a), &json!({"name": "uno", "description": "d"}));
    r.expect(200);
    assert_eq!(r.json["description"], "d");
    assert!(r.header("etag").is_some());
    s.put(&url, Auth::Bearer(&a), &json!({"name": "two"})).expect_detail(409, "Name must be unique");
    s.put(&url, Auth::Bearer(&a), &json!({"name": "uno", "endpoint_name": "two"}))
        .expect_detail(409, "Endpoint name must be unique");
    s.put(&url, Auth::Bearer(&a), &json!({"description": "no name"})).expect(422);
    let new_id = uuid::Uuid::new_v4();
    s.put(&format!("/api/v1/flows/{new_id}"), Auth::Bearer(&a), &json!({"name": "n", "endpoint_name": "two"}))
        .expect_detail(409, "Endpoint name must be unique");
    s.put(
        &format!("/api/v1/flows/{new_id}"),
        Auth::Bearer(&a),
        &json!({"name": "n", "folder_id": uuid::Uuid::new_v4()}),
    )
    .expect_detail(400, "Folder not found");
    let r = s.put(&format!("/api/v1/flows/{new_id}"), Auth::Bearer(&a), &json!({"name": "two", "data": graph()}));
    r.expect(201);
    assert_eq!(r.json["id"], new_id.to_string());
    assert_eq!(r.json["name"], "two (1)", "a new flow's name is still de-duplicated");

    // DELETE one, then many.
    s.delete(&url, Auth::Bearer(&a)).expect(200);
    let gone = s.delete(&url, Auth::Bearer(&a));
    gone.expect_detail(404, "Flow not found");
    s.get(&url, Auth::Bearer(&a)).expect(404);
    let r = s.send("DELETE", "/api/v1/flows/", Auth::Bearer(&a), &json!([other_id, new_id, id, uuid::Uuid::new_v4()]));
    r.expect(200);
    assert_eq!(r.json, json!({"deleted": 2}));
    s.send("DELETE", "/api/v1/flows/", Auth::Bearer(&a), &json!({"ids": []})).expect(422);
    s.send("DELETE", "/api/v1/flows/", Auth::Bearer(&a), &json!(["nope"])).expect(422);
    assert_eq!(s.get("/api/v1/flows/", Auth::Bearer(&a)).json, json!([]));
}

#[test]
fn deleting_a_flow_frees_its_names() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let r = s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "n", "data": graph(), "endpoint_name": "e"}));
    s.delete(&format!("/api/v1/flows/{}", id_of(&r)), Auth::Bearer(&a)).expect(200);
    let r = s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "n", "data": graph(), "endpoint_name": "e"}));
    assert_eq!((r.json["name"].as_str(), r.json["endpoint_name"].as_str()), (Some("n"), Some("e")));
}

#[test]
fn if_match_refuses_lost_updates() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let created = s.post("/api/v1/flows/", Auth::Bearer(&a), &flow("f"));
    let url = format!("/api/v1/flows/{}", id_of(&created));
    let v1 = etag_of(&s.get(&url, Auth::Bearer(&a)));
    assert!(v1.starts_with('"') && v1.ends_with('"') && v1.len() == 66, "{v1}");

    let r = s.send_with("PATCH", &url, Auth::Bearer(&a), &[("If-Match", &v1)], &json!({"name": "g"}));
    r.expect(200);
    let v2 = etag_of(&r);
    assert_ne!(v1, v2);
    assert_eq!(etag_of(&s.get(&url, Auth::Bearer(&a))), v2);
    let stale = "Flow has changed since it was read";
    s.send_with("PATCH", &url, Auth::Bearer(&a), &[("If-Match", &v1)], &json!({"name": "h"})).expect_detail(412, stale);
    s.send_with("PUT", &url, Auth::Bearer(&a), &[("If-Match", &v1)], &json!({"name": "h"})).expect_detail(412, stale);
    s.request_with("DELETE", &url, Auth::Bearer(&a), &[("If-Match", &v1)], None, None).expect_detail(412, stale);
    assert_eq!(s.get(&url, Auth::Bearer(&a)).json["name"], "g");
    let weak = format!("\"nope\", W/{v2}");
    s.send_with("PATCH", &url, Auth::Bearer(&a), &[("If-Match", &weak)], &json!({"tags": ["t"]})).expect(200);
    s.send_with("PATCH", &url, Auth::Bearer(&a), &[("If-Match", "*")], &json!({"tags": ["u"]})).expect(200);
    // Without If-Match the last write wins.
    s.patch(&url, Auth::Bearer(&a), &json!({"name": "last"})).expect(200);
    let current = etag_of(&s.get(&url, Auth::Bearer(&a)));
    let absent = format!("/api/v1/flows/{}", uuid::Uuid::new_v4());
    s.send_with("PUT", &absent, Auth::Bearer(&a), &[("If-Match", "*")], &flow("new")).expect_detail(412, stale);
    s.request_with("DELETE", &url, Auth::Bearer(&a), &[("If-Match", &current)], None, None).expect(200);
}

#[test]
fn batch_creates_all_or_nothing() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let flows: Vec<Value> = (0..10).map(|i| flow(&format!("b{i}"))).collect();
    let r = s.post("/api/v1/flows/batch/", Auth::Bearer(&a), &json!({"flows": flows}));
    r.expect(201);
    assert_eq!(r.json.as_array().unwrap().len(), 10);
    let existing = r.json[0]["id"].as_str().unwrap().to_owned();
    let fresh = uuid::Uuid::new_v4();
    let r = s.post(
        "/api/v1/flows/batch/",
        Auth::Bearer(&a),
        &json!({"flows": [{"name": "new", "id": fresh}, {"name": "dup", "id": existing}]}),
    );
    r.expect_detail(
        422,
        &format!(
            "Flow(s) with the following IDs already exist: {existing}. Use the update endpoint or upload_file() for upsert semantics."
        ),
    );
    s.get(&format!("/api/v1/flows/{fresh}"), Auth::Bearer(&a)).expect(404);
    s.post("/api/v1/flows/batch/", Auth::Bearer(&a), &json!({"flows": [flow("c"), flow("c")]}))
        .expect_detail(409, "Name must be unique");
    s.post("/api/v1/flows/batch/", Auth::Bearer(&a), &json!({"flows": [flow("b0")]})).expect(409);
    s.post("/api/v1/flows/batch/", Auth::Bearer(&a), &json!({"nope": []})).expect(422);
    assert_eq!(s.get("/api/v1/flows/", Auth::Bearer(&a)).json.as_array().unwrap().len(), 10);
}

#[test]
fn collection_paths_redirect_to_their_slashed_form() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    for path in ["/api/v1/flows", "/api/v1/flows/batch", "/api/v1/flows/upload", "/api/v1/flows/download"] {
        let r =
            s.request("POST", &format!("{path}?folder_id=x"), Auth::Bearer(&a), Some("application/json"), Some(b"{}"));
        r.expect(307);
        assert_eq!(r.header("location"), Some(format!("{path}/?folder_id=x").as_str()));
    }
    let r = s.get("/api/v1/flows/basic_examples", Auth::None);
    r.expect(307);
    assert_eq!(r.header("location"), Some("/api/v1/flows/basic_examples/"));
}

#[test]
fn another_users_flows_are_not_found_on_every_route() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let (_, b) = s.user("bob");
    let created = s.post(
        "/api/v1/flows/",
        Auth::Bearer(&a),
        &json!({"name": "secret", "data": graph(), "endpoint_name": "secret"}),
    );
    let id = id_of(&created);
    let url = format!("/api/v1/flows/{id}");
    let before = s.get(&url, Auth::Bearer(&a));
    let a_project = id_of(&s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "A's"})));

    s.get(&url, Auth::Bearer(&b)).expect_detail(404, "Flow not found");
    s.patch(&url, Auth::Bearer(&b), &json!({"name": "pwned"})).expect_detail(404, "Flow not found");
    s.put(&url, Auth::Bearer(&b), &json!({"name": "pwned"})).expect_detail(404, "Flow not found");
    s.send_with("PATCH", &url, Auth::Bearer(&b), &[("If-Match", "*")], &json!({"name": "pwned"}))
        .expect_detail(404, "Flow not found");
    s.delete(&url, Auth::Bearer(&b)).expect_detail(404, "Flow not found");
    s.post("/api/v1/flows/download/", Auth::Bearer(&b), &json!([id])).expect_detail(404, "No flows found.");
    let r = s.send("DELETE", "/api/v1/flows/", Auth::Bearer(&b), &json!([id]));
    assert_eq!(r.json, json!({"deleted": 0}));
    // B's writes that name A's flow or project never reach them.
    let r = s.upload("/api/v1/flows/upload/", Auth::Bearer(&b), "file", "f.json", created.json.to_string().as_bytes());
    r.expect(201);
    assert_ne!(r.json[0]["id"], id.as_str());
    assert_eq!(r.json[0]["name"], "secret");
    let r = s.post("/api/v1/flows/", Auth::Bearer(&b), &json!({"name": "x", "folder_id": a_project}));
    assert_ne!(r.json["folder_id"], a_project.as_str());
    s.put(
        &format!("/api/v1/flows/{}", uuid::Uuid::new_v4()),
        Auth::Bearer(&b),
        &json!({"name": "x", "folder_id": a_project}),
    )
    .expect_detail(400, "Folder not found");
    s.post("/api/v1/flows/batch/", Auth::Bearer(&b), &json!({"flows": [{"name": "y", "id": id}]})).expect(422);
    let r =
        s.post("/api/v1/flows/batch/", Auth::Bearer(&b), &json!({"flows": [{"name": "z", "folder_id": a_project}]}));
    assert_ne!(r.json[0]["folder_id"], a_project.as_str());
    s.get(&format!("/api/v1/flows/?folder_id={a_project}"), Auth::Bearer(&b)).expect(200);
    assert_eq!(s.get(&format!("/api/v1/flows/?folder_id={a_project}"), Auth::Bearer(&b)).json, json!([]));

    let listed = s.get("/api/v1/flows/", Auth::Bearer(&b));
    assert!(listed.json.as_array().unwrap().iter().all(|f| f["id"] != id.as_str()));
    assert!(!listed.text.contains(&id));
    let page = s.get("/api/v1/flows/?get_all=false", Auth::Bearer(&b));
    assert!(!page.text.contains(&id));
    let after = s.get(&url, Auth::Bearer(&a));
    after.expect(200);
    assert_eq!(after.json, before.json);
    assert_eq!(etag_of(&after), etag_of(&before));
    // The same UUID via B's API key: still nothing.
    let (_, key) = s.api_key(&b, "k");
    s.get(&url, Auth::Key(&key)).expect_detail(404, "Flow not found");
}
