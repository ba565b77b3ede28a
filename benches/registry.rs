//! Registry benches: API-key authentication cost with 1 vs 100,000 stored keys (it must stay
//! flat: lookup is by keyed hash, never a scan), through the `RegistryActor` as the HTTP front
//! asks it, and the cost of a password check (argon2id), which runs on a blocking pool.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix::Actor;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flowactor_actors::crypto::{hash_password, verify_password, Secrets};
use flowactor_actors::registry::{AuthenticateApiKey, KeyRepo, Registry, RegistryActor, RegistryOptions, UserRepo};
use flowactor_actors::Store;

fn populated(keys: usize) -> (Store, String) {
    let store = Store::temporary().unwrap();
    let mut registry = Registry::new(
        store.clone(),
        Secrets::derive("bench"),
        RegistryOptions { track_key_usage: true, ..RegistryOptions::default() },
    );
    let mut last = String::new();
    for i in 0..keys.div_ceil(1000) {
        let user = registry.insert_user(&format!("user{i}"), "x".into(), true, false, None).unwrap();
        for _ in 0..1000.min(keys - i * 1000) {
            last = registry.create_api_key(user.id, None, None, Default::default()).unwrap().1;
        }
    }
    (store, last)
}

fn api_key_auth(c: &mut Criterion) {
    let mut group = c.benchmark_group("api_key_auth");
    for keys in [1usize, 100_000] {
        let (store, key) = populated(keys);
        let system = actix_rt::System::new();
        let addr = system.block_on(async {
            RegistryActor::new(
                store,
                Secrets::derive("bench"),
                RegistryOptions { track_key_usage: true, ..RegistryOptions::default() },
            )
            .start()
        });
        group.bench_with_input(BenchmarkId::new("valid_key_via_actor", keys), &keys, |b, _| {
            b.iter(|| system.block_on(addr.send(AuthenticateApiKey { key: key.clone() })).unwrap().unwrap());
        });
        let unknown = flowactor_actors::crypto::generate_api_key();
        group.bench_with_input(BenchmarkId::new("unknown_key_via_actor", keys), &keys, |b, _| {
            b.iter(|| system.block_on(addr.send(AuthenticateApiKey { key: unknown.clone() })).unwrap().unwrap_err());
        });
    }
    group.finish();
}

fn password_check(c: &mut Criterion) {
    let phc = hash_password("correct horse battery staple").unwrap();
    let mut group = c.benchmark_group("password");
    group.sample_size(20);
    group.bench_function("argon2id_verify", |b| {
        b.iter(|| assert!(verify_password("correct horse battery staple", &phc)))
    });
    group.finish();
}

criterion_group!(benches, api_key_auth, password_check);
criterion_main!(benches);
