//! `/api/v1/flows/upload/` (flows, lists, zips) and `/api/v1/flows/download/`.

use std::io::{Read, Write};

use super::{flow, graph, id_of};
use crate::common::{Auth, TestServer};
use serde_json::{json, Value};

fn zip_names(bytes: &[u8]) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    (0..archive.len()).map(|i| archive.by_index(i).expect("entry").name().to_owned()).collect()
}

fn zip_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, contents) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).expect("start");
        w.write_all(contents).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

#[test]
fn upload_accepts_flows_lists_and_zips_and_explains_errors() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let url = "/api/v1/flows/upload/";
    s.upload(url, Auth::Bearer(&a), "other", "f.json", b"{}").expect_detail(400, "No file provided");
    s.request("POST", url, Auth::Bearer(&a), Some("application/json"), Some(b"{}"))
        .expect_detail(400, "No file provided");
    s.upload(url, Auth::Bearer(&a), "file", "f.json", b"").expect_detail(400, "The uploaded file is empty");
    let r = s.upload(url, Auth::Bearer(&a), "file", "f.json", b"{nope");
    r.expect(400);
    assert!(r.detail().starts_with("Invalid JSON file: "), "{}", r.text);
    s.upload(url, Auth::Bearer(&a), "file", "f.json", br#"{"data": {}}"#).expect(422);

    let project = id_of(&s.post("/api/v1/projects/", Auth::Bearer(&a), &json!({"name": "Imports"})));
    let two = json!({"flows": [{"name": "u", "data": graph(), "endpoint_name": "u"}, {"name": "u", "data": graph(), "endpoint_name": "u"}]});
    let r = s.upload(
        &format!("{url}?folder_id={project}"),
        Auth::Bearer(&a),
        "file",
        "two.json",
        two.to_string().as_bytes(),
    );
    r.expect(201);
    let got: Vec<(&str, &str, &str)> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["endpoint_name"].as_str().unwrap(), f["folder_id"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [("u", "u", project.as_str()), ("u (1)", "u-1", project.as_str())]);

    let zipped = zip_bytes(&[
        ("a.json", flow("za").to_string().as_bytes()),
        ("b.json", json!({"flows": [flow("zb")]}).to_string().as_bytes()),
        ("notes.txt", b"ignored"),
        ("broken.json", b"{"),
    ]);
    let r = s.upload(url, Auth::Bearer(&a), "file", "flows.zip", &zipped);
    r.expect(201);
    assert_eq!(r.json.as_array().unwrap().len(), 2);
    let empty = zip_bytes(&[("notes.txt", b"nothing")]);
    s.upload(url, Auth::Bearer(&a), "file", "e.zip", &empty)
        .expect_detail(400, "No valid flow JSON files found in the ZIP");
}

#[test]
fn upload_and_json_bodies_are_bounded() {
    let s = TestServer::start_with(&[("FLOWACTOR_MAX_BODY_MB", "1")]);
    let (_, a) = s.user("alice");
    let big = json!({"name": "big", "data": {"nodes": [], "edges": [], "blob": "x".repeat(2 * 1024 * 1024)}});
    s.post("/api/v1/flows/", Auth::Bearer(&a), &big).expect(413);
    s.upload("/api/v1/flows/upload/", Auth::Bearer(&a), "file", "big.json", big.to_string().as_bytes()).expect(413);
    let bomb = zip_bytes(&[("big.json", big.to_string().as_bytes())]);
    assert!(bomb.len() < 1024 * 1024);
    s.upload("/api/v1/flows/upload/", Auth::Bearer(&a), "file", "bomb.zip", &bomb).expect(413);
}

#[test]
fn download_answers_one_flow_as_json_and_several_as_a_zip() {
    let s = TestServer::start();
    let (_, a) = s.user("alice");
    let secret_node = json!({"nodes": [{"id": "m", "data": {"type": "OpenAIModel", "node": {"template": {
        "api_key": {"name": "api_key", "password": true, "value": "sk-very-secret"},
        "model": {"name": "model", "value": "gpt"}
    }}}}], "edges": []});
    let one = id_of(&s.post("/api/v1/flows/", Auth::Bearer(&a), &json!({"name": "one/../x", "data": secret_node})));
    let two = id_of(&s.post("/api/v1/flows/", Auth::Bearer(&a), &flow("two")));
    let r = s.post("/api/v1/flows/download/", Auth::Bearer(&a), &json!([one]));
    r.expect(200);
    assert_eq!(r.json["id"], one.as_str());
    let template = &r.json["data"]["nodes"][0]["data"]["node"]["template"];
    assert_eq!(template["api_key"]["value"], Value::Null);
    assert_eq!(template["model"]["value"], "gpt");
    assert!(!r.text.contains("sk-very-secret"));
    // The stored flow keeps its value; only the export is scrubbed.
    let stored = s.get(&format!("/api/v1/flows/{one}"), Auth::Bearer(&a));
    assert_eq!(stored.json["data"]["nodes"][0]["data"]["node"]["template"]["api_key"]["value"], "sk-very-secret");

    let r = s.post("/api/v1/flows/download/", Auth::Bearer(&a), &json!([one, two, uuid::Uuid::new_v4()]));
    r.expect(200);
    assert_eq!(r.header("content-type"), Some("application/x-zip-compressed"));
    let disposition = r.header("content-disposition").unwrap();
    let name = disposition.strip_prefix("attachment; filename=").expect("attachment");
    let stamp = name.strip_suffix("_langflow_flows.zip").expect("suffix");
    assert!(
        stamp.len() == 15 && stamp.as_bytes()[8] == b'_' && stamp.replace('_', "").bytes().all(|b| b.is_ascii_digit())
    );
    let mut names = zip_names(&r.bytes);
    names.sort();
    assert_eq!(names, ["one_.._x.json", "two.json"]);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(r.bytes.clone())).unwrap();
    let mut text = String::new();
    archive.by_name("one_.._x.json").unwrap().read_to_string(&mut text).unwrap();
    assert!(!text.contains("sk-very-secret"));

    s.post("/api/v1/flows/download/", Auth::Bearer(&a), &json!([uuid::Uuid::new_v4()]))
        .expect_detail(404, "No flows found.");
    s.post("/api/v1/flows/download/", Auth::Bearer(&a), &json!("nope")).expect(422);
}
