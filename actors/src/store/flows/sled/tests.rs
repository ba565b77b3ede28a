use super::*;
use crate::records::UserRecord;
use crate::store::flows::{FlowInput, FlowReads, FlowWrites, NewProject, ProjectWrites};
use serde_json::json;

fn store_with_user() -> (FlowStore, Uuid) {
    let store = Store::temporary().expect("store");
    let user = Uuid::new_v4();
    let rec = UserRecord {
        id: user,
        username: "u".into(),
        password_hash: String::new(),
        profile_image: None,
        is_active: true,
        is_superuser: false,
        create_at: 0,
        updated_at: 0,
        last_login_at: None,
        optins: String::new(),
    };
    store.users.insert(user.as_bytes(), codec::encode(&rec).expect("encode")).expect("insert");
    (FlowStore::new(store), user)
}

fn named(name: &str, ep: Option<&str>) -> FlowInput {
    FlowInput {
        name: Some(name.into()),
        endpoint_name: ep.map(|e| Some(e.to_owned())),
        data: Some(json!({"nodes": [], "edges": []})),
        ..FlowInput::default()
    }
}

#[test]
fn names_and_endpoints_are_suffixed_like_langflow() {
    let (fs, u) = store_with_user();
    let names: Vec<String> = (0..3)
        .map(|_| fs.create(u, None, named("Flow", Some("ep"))).expect("create"))
        .map(|f| format!("{}|{}", f.name, f.endpoint_name.unwrap_or_default()))
        .collect();
    assert_eq!(names, ["Flow|ep", "Flow (1)|ep-1", "Flow (2)|ep-2"]);
    fs.create(u, None, named("Flow (7)", Some("ep-7"))).expect("create");
    let next = fs.create(u, None, named("Flow", Some("ep"))).expect("create");
    assert_eq!(next.name, "Flow (8)");
    assert_eq!(next.endpoint_name.as_deref(), Some("ep-8"));
}

#[test]
fn content_hash_ignores_key_order() {
    let (fs, u) = store_with_user();
    let a = fs.create(u, None, FlowInput { data: Some(json!({"nodes": [], "edges": [], "x": 1})), ..named("a", None) });
    let b = fs.create(u, None, FlowInput { data: Some(json!({"x": 1, "edges": [], "nodes": []})), ..named("b", None) });
    assert_eq!(a.expect("a").content_hash, b.expect("b").content_hash);
}

#[test]
fn deleting_a_project_takes_its_flows_only() {
    let (fs, u) = store_with_user();
    let p = fs.create_project(u, NewProject { name: "P".into(), ..NewProject::default() }, &[]).expect("p");
    let inside = fs.create(u, None, FlowInput { folder_id: Some(p.id), ..named("in", None) }).expect("in");
    let outside = fs.create(u, None, named("out", None)).expect("out");
    assert_eq!(fs.delete_project(u, p.id).expect("delete"), vec![inside.id]);
    assert!(fs.get(inside.id).expect("get").is_none());
    assert!(fs.get(outside.id).expect("get").is_some());
    assert!(fs.find_by_endpoint(u, "in").expect("find").is_none());
}

#[test]
fn writes_wait_for_the_writer_lock_on_the_blocking_pool_not_the_runtime_thread() {
    let (fs, u) = store_with_user();
    let store = fs.store().clone();
    let flows = super::super::Flows::new(fs);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let guard = store.flow_writer();
    let writer = {
        let flows = flows.clone();
        rt.spawn(async move { flows.write(move |f| f.create(u, None, named("f", Some("ep")))).await })
    };
    // The one runtime thread keeps serving while the write waits for the lock.
    let listed = rt
        .block_on(async {
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            flows.list(u, None)
        })
        .expect("list");
    assert!(listed.is_empty());
    assert!(!writer.is_finished());
    drop(guard);
    let created = rt.block_on(writer).expect("join").expect("create");
    assert_eq!(flows.resolve(u, "ep").expect("resolve").map(|f| f.id), Some(created.id));
}
