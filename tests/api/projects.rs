//! `/api/v1/projects`: the default project, renaming rules, reading with flows
//! (paged or whole), deletion with its flows, ZIP download/upload, the legacy `/folders`
//! redirects and two-user isolation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;

use crate::common::{Auth, Resp, TestServer};
use serde_json::{json, Value};

fn graph() -> Value {
    json!({"nodes": [], "edges": []})
}

fn id_of(r: &Resp) -> String {
    r.json["id"].as_str().expect("id").to_owned()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn projects_are_created_listed_and_renamed_per_user() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let list = s.get("/api/v1/projects/", Auth::Bearer(&a));
    list.expect(200);
    assert_eq!(
        list.json,
        json!([{
            "name": "Starter Project",
            "description": "Manage your own flows. Download and upload projects.",
            "auth_settings": null,
            "id": list.json[0]["id"],
            "parent_id": null,
        }])
    );
    let default_id = list.json[0]["id"].as_str().unwrap().to_owned();

    let f1 = id_of(&s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "f1", "data": graph()})));
    let c1 = id_of(&s.post(
        "/api/v1/flows/",
        Auth::Bearer(&a),
        &json!({"name": "c1", "data": graph(), "is_component": true}),
    ));
    let p = s.post(
        "/api/v1/projects/",
        Auth::Bearer(&a),
        &json!({"name": "Work", "description": "d", "flows_list": [f1], "components_list": [c1]}),
    );
    p.expect(201);
    let mut keys: Vec<&str> = p.json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["auth_settings", "description", "id", "name", "parent_id"]);
    assert_eq!(p.json["auth_settings"], json!({"auth_type": "apikey"}));
    let work = id_of(&p);
    assert_eq!(s.get(&format!("/api/v1/flows/{f1}"), Auth::Bearer(&a)).json["folder_id"], work.as_str());
    assert_eq!(s.get(&format!("/api/v1/flows/{c1}"), Auth::Bearer(&a)).json["folder_id"], work.as_str());

    let dup =
        s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "Work", "auth_settings": {"auth_type": "none"}}));
    assert_eq!(dup.json["name"], "Work (1)");
    assert_eq!(dup.json["auth_settings"], json!({"auth_type": "none"}));
    assert_eq!(s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "Work"})).json["name"], "Work (2)");
    let child = s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "Child", "parent_id": work}));
    assert_eq!(child.json["parent_id"], work.as_str());
    s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"description": "no name"})).expect(422);
    s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "x".repeat(256)})).expect(422);
    s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "p", "parent_id": uuid::Uuid::new_v4()}))
        .expect_detail(400, "Parent project not found");

    let list = s.get("/api/v1/projects/", Auth::Bearer(&a));
    assert_eq!(names(&list.json), ["Starter Project", "Child", "Work", "Work (1)", "Work (2)"]);
    assert_eq!(list.json[0]["id"], default_id.as_str());

    let url = format!("/api/v1/projects/{work}");
    let r =
        s.patch(&url, Auth::Bearer(&a), &json!({"name": "Job", "description": "new", "flows": [], "components": []}));
    r.expect(200);
    assert_eq!((r.json["name"].as_str(), r.json["description"].as_str()), (Some("Job"), Some("new")));
    assert_eq!(s.get(&format!("/api/v1/flows/{f1}"), Auth::Bearer(&a)).json["folder_id"], work.as_str());
    s.patch(&url, Auth::Bearer(&a), &json!({"name": "Work (1)"})).expect_detail(409, "Project name must be unique");
    s.patch(&url, Auth::Bearer(&a), &json!({"parent_id": id_of(&child)}))
        .expect_detail(400, "Parent project not found");
    s.patch(&url, Auth::Bearer(&a), &json!({"parent_id": work})).expect(400);
    s.patch("/api/v1/projects/nope", Auth::Bearer(&a), &json!({})).expect(422);
    s.patch(&format!("/api/v1/projects/{}", uuid::Uuid::new_v4()), Auth::Bearer(&a), &json!({"name": "z"}))
        .expect_detail(404, "Project not found");
}

#[test]
fn reading_a_project_returns_its_flows_whole_or_paged() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let p = id_of(&s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "P"})));
    for (name, component) in [("alpha", false), ("Beta", false), ("gamma", true)] {
        s.post(
            "/api/v1/flows/",
            Auth::Bearer(&a),
            &json!({"name": name, "data": graph(), "is_component": component, "folder_id": p}),
        )
        .expect(201);
    }
    s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "elsewhere", "data": graph()})).expect(201);
    let url = format!("/api/v1/projects/{p}");
    let whole = s.get(&url, Auth::Bearer(&a));
    whole.expect(200);
    assert_eq!(whole.json["name"], "P");
    let mut got = names(&whole.json["flows"]);
    got.sort();
    assert_eq!(got, ["Beta", "alpha", "gamma"]);
    assert_eq!(whole.json["flows"][0]["data"], graph());

    let paged = s.get(&format!("{url}?page=1&size=2"), Auth::Bearer(&a));
    paged.expect(200);
    assert_eq!(paged.json["folder"]["id"], p.as_str());
    assert_eq!(paged.json["flows"]["total"], 3);
    assert_eq!(paged.json["flows"]["pages"], 2);
    assert_eq!(paged.json["flows"]["items"].as_array().unwrap().len(), 2);
    // Most recently updated first.
    assert_eq!(paged.json["flows"]["items"][0]["name"], "gamma");
    let components = s.get(&format!("{url}?page=1&size=10&is_component=true"), Auth::Bearer(&a));
    assert_eq!(names(&components.json["flows"]["items"]), ["gamma"]);
    let plain = s.get(&format!("{url}?page=1&size=10&is_flow=true&search=BET"), Auth::Bearer(&a));
    assert_eq!(names(&plain.json["flows"]["items"]), ["Beta"]);
    s.get(&format!("{url}?page=0&size=10"), Auth::Bearer(&a)).expect(422);
    s.get(&format!("{url}?page=1&size=1000"), Auth::Bearer(&a)).expect(422);
    s.get("/api/v1/projects/not-a-uuid", Auth::Bearer(&a)).expect(422);
    s.get(&format!("/api/v1/projects/{}", uuid::Uuid::new_v4()), Auth::Bearer(&a))
        .expect_detail(404, "Project not found");
}

#[test]
fn deleting_a_project_deletes_its_flows() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let p = id_of(&s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "Doomed"})));
    let inside =
        id_of(&s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "in", "data": graph(), "folder_id": p})));
    let outside = id_of(&s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "out", "data": graph()})));
    let child = id_of(&s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "Kid", "parent_id": p})));
    let r = s.delete(&format!("/api/v1/projects/{p}"), Auth::Bearer(&a));
    r.expect(204);
    assert!(r.bytes.is_empty());
    s.get(&format!("/api/v1/projects/{p}"), Auth::Bearer(&a)).expect_detail(404, "Project not found");
    s.get(&format!("/api/v1/flows/{inside}"), Auth::Bearer(&a)).expect(404);
    s.get(&format!("/api/v1/flows/{outside}"), Auth::Bearer(&a)).expect(200);
    assert_eq!(s.get(&format!("/api/v1/projects/{child}"), Auth::Bearer(&a)).json["parent_id"], Value::Null);
    s.delete(&format!("/api/v1/projects/{p}"), Auth::Bearer(&a)).expect_detail(404, "Project not found");
    // The default project can go too; it comes back on next need, empty.
    let default = s.get("/api/v1/projects/", Auth::Bearer(&a)).json[0]["id"].as_str().unwrap().to_owned();
    s.delete(&format!("/api/v1/projects/{default}"), Auth::Bearer(&a)).expect(204);
    s.get(&format!("/api/v1/flows/{outside}"), Auth::Bearer(&a)).expect(404);
    let list = s.get("/api/v1/projects/", Auth::Bearer(&a));
    assert_eq!(list.json[0]["name"], "Starter Project");
    assert_ne!(list.json[0]["id"], default.as_str());
}

#[test]
fn projects_download_as_zip_and_upload_as_new_projects() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let p = id_of(&s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "My \"Work\""})));
    s.get(&format!("/api/v1/projects/download/{p}"), Auth::Bearer(&a)).expect_detail(404, "No flows found in project");
    for name in ["one", "two"] {
        s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": name, "data": graph(), "folder_id": p})).expect(201);
    }
    let r = s.get(&format!("/api/v1/projects/download/{p}"), Auth::Bearer(&a));
    r.expect(200);
    let disposition = r.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=") && disposition.ends_with("_My__Work__flows.zip"),
        "{disposition}"
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(r.bytes.clone())).unwrap();
    let mut files: Vec<String> = (0..archive.len()).map(|i| archive.by_index(i).unwrap().name().to_owned()).collect();
    files.sort();
    assert_eq!(files, ["one.json", "two.json"]);
    let mut text = String::new();
    archive.by_name("one.json").unwrap().read_to_string(&mut text).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["data"], graph());
    s.get(&format!("/api/v1/projects/download/{}", uuid::Uuid::new_v4()), Auth::Bearer(&a))
        .expect_detail(404, "Project not found");

    // Uploading a project export creates a new project with copies of the flows.
    let original = s.get(&format!("/api/v1/projects/{p}"), Auth::Bearer(&a)).json["flows"].clone();
    let doc = json!({"folder_name": "My \"Work\"", "folder_description": "imported", "flows": original});
    let r = s.upload("/api/v1/projects/upload/", Auth::Bearer(&a), "file", "p.json", doc.to_string().as_bytes());
    r.expect(201);
    let created = r.json.as_array().unwrap();
    assert_eq!(created.len(), 2);
    let new_folder = created[0]["folder_id"].as_str().unwrap().to_owned();
    assert_ne!(new_folder, p);
    assert!(created.iter().all(|f| f["folder_id"] == new_folder.as_str()));
    assert!(created.iter().all(|f| original.as_array().unwrap().iter().all(|o| o["id"] != f["id"])));
    let mut got = names(&r.json);
    got.sort();
    assert_eq!(got, ["one (1)", "two (1)"]);
    let project = s.get(&format!("/api/v1/projects/{new_folder}"), Auth::Bearer(&a));
    assert_eq!(project.json["name"], "My \"Work\" (1)");
    assert_eq!(project.json["description"], "imported");
    // The originals did not move.
    assert_eq!(s.get(&format!("/api/v1/projects/{p}"), Auth::Bearer(&a)).json["flows"].as_array().unwrap().len(), 2);

    let url = "/api/v1/projects/upload/";
    s.upload(url, Auth::Bearer(&a), "nope", "p.json", b"{}").expect_detail(400, "No file provided");
    s.upload(url, Auth::Bearer(&a), "file", "p.json", b"  ").expect_detail(400, "The uploaded file is empty");
    assert!(s.upload(url, Auth::Bearer(&a), "file", "p.json", b"{x").detail().starts_with("Invalid JSON file: "));
    s.upload(url, Auth::Bearer(&a), "file", "p.json", b"[1]")
        .expect_detail(400, "Invalid project data: expected a JSON object with 'folder_name' and 'flows' fields");
    s.upload(url, Auth::Bearer(&a), "file", "p.json", b"{}")
        .expect_detail(400, "Missing required field(s): folder_name, flows");
    s.upload(url, Auth::Bearer(&a), "file", "p.json", br#"{"folder_name": "x", "flows": []}"#)
        .expect_detail(400, "No flows found in the file");

    // A ZIP from the download comes back as a project named after the file.
    let r = s.upload(
        url,
        Auth::Bearer(&a),
        "file",
        "exported.zip",
        &s.get(&format!("/api/v1/projects/download/{p}"), Auth::Bearer(&a)).bytes,
    );
    r.expect(201);
    let folder = r.json[0]["folder_id"].as_str().unwrap();
    assert_eq!(s.get(&format!("/api/v1/projects/{folder}"), Auth::Bearer(&a)).json["name"], "exported");
}

#[test]
fn legacy_folder_paths_redirect_to_projects() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let id = uuid::Uuid::new_v4();
    for (method, from, to) in [
        ("GET", "/api/v1/folders/".to_owned(), "/api/v1/projects/".to_owned()),
        ("POST", "/api/v1/folders/".to_owned(), "/api/v1/projects/".to_owned()),
        (
            "GET",
            format!("/api/v1/folders/{id}?page=1&size=2&search=x"),
            format!("/api/v1/projects/{id}?page=1&size=2&search=x"),
        ),
        ("PATCH", format!("/api/v1/folders/{id}"), format!("/api/v1/projects/{id}")),
        ("DELETE", format!("/api/v1/folders/{id}"), format!("/api/v1/projects/{id}")),
        ("GET", format!("/api/v1/folders/download/{id}"), format!("/api/v1/projects/download/{id}")),
        ("POST", "/api/v1/folders/upload/".to_owned(), "/api/v1/projects/upload/".to_owned()),
        ("GET", "/api/v1/folders".to_owned(), "/api/v1/projects".to_owned()),
    ] {
        let r = s.request(method, &from, Auth::Bearer(&a), Some("application/json"), Some(b"{}"));
        r.expect(307);
        assert_eq!(r.header("location"), Some(to.as_str()), "{method} {from}");
    }
    let r = s.get("/api/v1/projects", Auth::Bearer(&a));
    r.expect(307);
    assert_eq!(r.header("location"), Some("/api/v1/projects/"));
    s.get("/api/v1/folderstuff", Auth::Bearer(&a)).expect(404);
}

#[test]
fn another_users_projects_are_not_found_on_every_route() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let (_, b) = s.user("bob");
    let p = id_of(&s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "Secret"})));
    let f = id_of(&s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "in", "data": graph(), "folder_id": p})));
    let url = format!("/api/v1/projects/{p}");
    let before = s.get(&url, Auth::Bearer(&a)).json;

    s.get(&url, Auth::Bearer(&b)).expect_detail(404, "Project not found");
    s.get(&format!("{url}?page=1&size=5"), Auth::Bearer(&b)).expect_detail(404, "Project not found");
    s.patch(&url, Auth::Bearer(&b), &json!({"name": "pwned"})).expect_detail(404, "Project not found");
    s.delete(&url, Auth::Bearer(&b)).expect_detail(404, "Project not found");
    s.get(&format!("/api/v1/projects/download/{p}"), Auth::Bearer(&b)).expect_detail(404, "Project not found");
    let listed = s.get("/api/v1/projects/", Auth::Bearer(&b));
    assert_eq!(names(&listed.json), ["Starter Project"]);
    // B cannot pull A's flow into a project of B's or hang a project under A's.
    let mine = s.post("/api/v1/projects/", Auth::Bearer(&b), &json!({"name": "Mine", "flows_list": [f]}));
    mine.expect(201);
    assert_eq!(s.get(&format!("/api/v1/projects/{}", id_of(&mine)), Auth::Bearer(&b)).json["flows"], json!([]));
    s.post("/api/v1/projects/", Auth::Bearer(&b), &json!({"name": "Kid", "parent_id": p}))
        .expect_detail(400, "Parent project not found");

    assert_eq!(s.get(&url, Auth::Bearer(&a)).json, before);
    assert_eq!(s.get(&format!("/api/v1/flows/{f}"), Auth::Bearer(&a)).json["folder_id"], p.as_str());
}
