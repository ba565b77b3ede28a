use super::*;

fn store() -> (tempfile::TempDir, Files) {
    let dir = tempfile::tempdir().expect("dir");
    let files = Files::open(dir.path()).expect("open");
    (dir, files)
}

fn upload(files: &Files, user: Uuid, name: &str, bytes: &[u8], how: UserUpload) -> FileRecord {
    let mut pending = files.begin().expect("begin");
    pending.write(bytes).expect("write");
    files.create_user_file(user, pending, name, how).expect("create")
}

#[test]
fn repeated_names_get_suffixes_and_append_keeps_the_id() {
    let (_dir, files) = store();
    let user = Uuid::new_v4();
    let a = upload(&files, user, "report.txt", b"one", UserUpload::default());
    let b = upload(&files, user, "report.txt", b"two", UserUpload::default());
    assert_eq!((a.name.as_str(), b.name.as_str()), ("report", "report (1)"));
    assert_eq!(b.path, format!("{user}/report (1).txt"));
    let c = upload(&files, user, "report.txt", b"+more", UserUpload { append: true, ephemeral: false });
    assert_eq!((c.id, c.size), (a.id, 8));
    let e = upload(&files, user, "tmp.txt", b"x", UserUpload { append: false, ephemeral: true });
    assert!(files.get_user_file(user, e.id).expect("get").is_none());
    assert_eq!(files.list_user(user).expect("list").len(), 2);
}

#[test]
fn an_uncommitted_upload_leaves_nothing_visible() {
    let (dir, files) = store();
    let flow = Uuid::new_v4();
    {
        let mut pending = files.begin().expect("begin");
        pending.write(b"half").expect("write");
    }
    assert!(files.list_flow(flow).expect("list").is_empty());
    assert_eq!(std::fs::read_dir(dir.path().join(".upload-tmp")).expect("tmp").count(), 0);
}

#[test]
fn users_are_isolated_and_deleting_a_user_removes_everything() {
    let (_dir, files) = store();
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let a = upload(&files, alice, "a.txt", b"a", UserUpload::default());
    assert!(files.get_user_file(bob, a.id).expect("get").is_none());
    assert!(files.delete_user_file(bob, a.id).expect("delete").is_none());
    files.delete_user(alice).expect("delete user");
    assert!(files.list_user(alice).expect("list").is_empty());
    assert!(!files.root().join(alice.to_string()).exists());
}
