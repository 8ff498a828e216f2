//! Setup tokens and API keys on both backends.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::TestDb;
use revaer_domain::settings::{AppMode, Changeset};
use revaer_store::{ChangeContext, KeyRateLimit, NewApiKey, StoreError};
use serde_json::json;

fn first_key() -> NewApiKey {
    NewApiKey {
        label: "admin".into(),
        rate_limit: None,
        expires_at: None,
        scopes: revaer_domain::Scopes::ADMIN,
        issued_by: None,
    }
}

fn changeset(value: serde_json::Value) -> Changeset {
    serde_json::from_value(value).expect("changeset")
}

async fn setup_token_is_one_time_and_exactly_one_concurrent_use_wins(db: &TestDb) {
    let older = db.store.issue_setup_token(Duration::from_mins(10)).await.expect("token");
    let token = db.store.issue_setup_token(Duration::from_mins(10)).await.expect("token");
    assert!(db.store.has_setup_token().await.expect("has"));
    let context = ChangeContext::new("setup");
    let initial = changeset(json!({"app_profile": {"instance_name": "home"}}));
    // A newer token from the same issuer (a restarted daemon) revokes the
    // older one.
    let refused = db.store.complete_setup(older.expose(), &initial, &first_key(), &context).await;
    assert!(matches!(refused, Err(StoreError::SetupTokenRejected)), "{refused:?}");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, token, initial, context) =
            (db.store.clone(), token.clone(), initial.clone(), context.clone());
        tasks.push(tokio::spawn(async move {
            store.complete_setup(token.expose(), &initial, &first_key(), &context).await
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("join") {
            Ok(done) => winners.push(done),
            Err(StoreError::SetupTokenRejected) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one completion wins");
    let (snapshot, key) = winners.remove(0);
    assert_eq!(snapshot.settings.app_profile.mode, AppMode::Active);
    assert_eq!(snapshot.settings.app_profile.instance_name, "home");
    assert!(db.store.verify_api_key(key.token.expose()).await.expect("verify").is_some());
    assert_eq!(db.store.list_api_keys().await.expect("list").len(), 1);
    assert!(!db.store.has_setup_token().await.expect("has"), "the others are revoked");
    assert!(matches!(
        db.store.issue_setup_token(Duration::from_mins(1)).await,
        Err(StoreError::AlreadySetUp)
    ));
}

async fn each_daemon_keeps_its_own_setup_token(db: &TestDb) {
    let ttl = Duration::from_mins(10);
    let first = db.store.issue_setup_token_for(ttl, "host:a").await.expect("token");
    let other = db.another().await;
    let _second = other.issue_setup_token_for(ttl, "host:b").await.expect("token");
    let context = ChangeContext::new("setup");
    let (changes, key) = (Changeset::default(), first_key());
    let done = db.store.complete_setup(first.expose(), &changes, &key, &context).await;
    assert!(done.is_ok(), "a token issued before another daemon's still works: {done:?}");
    assert!(!db.store.has_setup_token().await.expect("has"), "the other daemon's is revoked");
    other.close().await;
}

async fn a_failed_setup_consumes_nothing(db: &TestDb) {
    let token = db.store.issue_setup_token(Duration::from_mins(10)).await.expect("token");
    let bad = changeset(json!({"engine_profile": {"connections_limit": 0}}));
    let context = ChangeContext::new("setup");
    let err = db.store.complete_setup(token.expose(), &bad, &first_key(), &context).await;
    assert!(matches!(err, Err(StoreError::InvalidSettings(_))), "{err:?}");
    let bad_key = NewApiKey { label: String::new(), ..first_key() };
    let err =
        db.store.complete_setup(token.expose(), &Changeset::default(), &bad_key, &context).await;
    assert!(matches!(err, Err(StoreError::Invalid { field: "label", .. })), "{err:?}");
    assert_eq!(db.store.settings().await.expect("read").settings.app_profile.mode, AppMode::Setup);
    let (snapshot, _) = db
        .store
        .complete_setup(token.expose(), &Changeset::default(), &first_key(), &context)
        .await
        .expect("the token still works");
    assert_eq!(snapshot.settings.app_profile.mode, AppMode::Active);
}

async fn an_expired_setup_token_is_refused(db: &TestDb) {
    let token = db.store.issue_setup_token(Duration::ZERO).await.expect("token");
    let err = db
        .store
        .complete_setup(
            token.expose(),
            &Changeset::default(),
            &first_key(),
            &ChangeContext::new("s"),
        )
        .await;
    assert!(matches!(err, Err(StoreError::SetupTokenRejected)), "{err:?}");
    assert!(!db.store.has_setup_token().await.expect("has"));
}

async fn api_key_issue_verify_rotate_revoke_expire(db: &TestDb) {
    let limit = KeyRateLimit { burst: 20, per_seconds: 60 };
    let issued = db
        .store
        .issue_api_key(&NewApiKey {
            label: "sonarr".into(),
            rate_limit: Some(limit),
            expires_at: None,
            scopes: revaer_domain::Scopes::ADMIN,
            issued_by: None,
        })
        .await
        .expect("issue");
    let token = issued.token.expose().to_owned();
    assert!(token.starts_with("rvk_"));
    assert!(!format!("{issued:?}").contains(&token[20..]), "Debug never shows the secret");
    let verified = db.store.verify_api_key(&token).await.expect("verify").expect("valid");
    assert_eq!(verified.key_id, issued.key.key_id);
    assert_eq!(verified.rate_limit, Some(limit));
    for bad in [
        "",
        "rvk_",
        "Bearer x",
        &token[..token.len() - 1],
        &format!("{}x", &token[..token.len() - 1]),
    ] {
        assert!(db.store.verify_api_key(bad).await.expect("verify").is_none(), "{bad}");
    }

    let digests = db.store.api_key_digests().await.expect("digests");
    assert_eq!(digests.len(), 1);
    assert!(digests[0].verify(&token));
    let last = if token.ends_with('A') { 'B' } else { 'A' };
    assert!(!digests[0].verify(&format!("{}{last}", &token[..token.len() - 1])));
    assert_eq!(revaer_store::token_key_id(&token), Some(issued.key.key_id.as_str()));
    assert!(!format!("{:?}", digests[0]).contains("secret_hash"));

    db.store.record_key_use(&issued.key.key_id);
    db.store.flush_key_uses().await.expect("flush");
    let listed = db.store.list_api_keys().await.expect("list");
    assert!(listed[0].last_used_at.is_some());

    db.store.set_api_key_enabled(&issued.key.key_id, false).await.expect("disable");
    assert!(db.store.verify_api_key(&token).await.expect("verify").is_none(), "disabled");
    assert!(db.store.api_key_digests().await.expect("digests").is_empty());
    db.store.set_api_key_enabled(&issued.key.key_id, true).await.expect("enable");
    assert!(db.store.verify_api_key(&token).await.expect("verify").is_some(), "enabled again");

    let rotated = db.store.rotate_api_key(&issued.key.key_id).await.expect("rotate");
    assert_ne!(rotated.token.expose(), token);
    assert!(db.store.verify_api_key(&token).await.expect("verify").is_none(), "old secret dead");
    assert!(db.store.verify_api_key(rotated.token.expose()).await.expect("verify").is_some());

    db.store.revoke_api_key(&issued.key.key_id).await.expect("revoke");
    assert!(db.store.verify_api_key(rotated.token.expose()).await.expect("verify").is_none());
    assert!(matches!(
        db.store.revoke_api_key(&issued.key.key_id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        db.store.rotate_api_key(&issued.key.key_id).await,
        Err(StoreError::NotFound { .. })
    ));
    let revived = db.store.set_api_key_enabled(&issued.key.key_id, true).await;
    assert!(matches!(revived, Err(StoreError::NotFound { .. })), "a revoked key cannot be enabled");
    assert!(db.store.api_key(&issued.key.key_id).await.expect("still listed").revoked_at.is_some());
}

async fn api_keys_expire_and_bad_limits_are_refused(db: &TestDb) {
    let past = NewApiKey {
        label: "late".into(),
        rate_limit: None,
        expires_at: Some(Utc::now() - chrono::Duration::seconds(1)),
        scopes: revaer_domain::Scopes::ADMIN,
        issued_by: None,
    };
    let refused = db.store.issue_api_key(&past).await;
    assert!(matches!(refused, Err(StoreError::Invalid { field: "expires_at", .. })), "{refused:?}");
    let soon = NewApiKey {
        label: "temp".into(),
        rate_limit: None,
        expires_at: Some(Utc::now() + chrono::Duration::milliseconds(300)),
        scopes: revaer_domain::Scopes::ADMIN,
        issued_by: None,
    };
    let expiring = db.store.issue_api_key(&soon).await.expect("issue");
    assert!(db.store.verify_api_key(expiring.token.expose()).await.expect("verify").is_some());
    tokio::time::timeout(common::WAIT, async {
        while db.store.verify_api_key(expiring.token.expose()).await.expect("verify").is_some() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the key stops verifying once it expires");
    assert!(!expiring.key.is_usable(Utc::now()));
    let invalid = NewApiKey {
        label: "x".into(),
        rate_limit: Some(KeyRateLimit { burst: 0, per_seconds: 1 }),
        expires_at: None,
        scopes: revaer_domain::Scopes::ADMIN,
        issued_by: None,
    };
    assert!(matches!(db.store.issue_api_key(&invalid).await, Err(StoreError::Invalid { .. })));
}

async fn two_instances_setting_up_at_once_cannot_both_succeed(db: &TestDb) {
    let other = db.another().await;
    let mut tasks = Vec::new();
    for store in [db.store.clone(), other.clone(), db.store.clone(), other.clone()] {
        tasks.push(tokio::spawn(async move {
            let token = store.issue_setup_token(Duration::from_mins(10)).await?;
            store
                .complete_setup(
                    token.expose(),
                    &Changeset::default(),
                    &first_key(),
                    &ChangeContext::new("s"),
                )
                .await
        }));
    }
    let mut completed = 0;
    for task in tasks {
        match task.await.expect("join") {
            Ok(_) => completed += 1,
            Err(StoreError::SetupTokenRejected | StoreError::AlreadySetUp) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(completed, 1, "exactly one setup completes");
    assert_eq!(db.store.list_api_keys().await.expect("keys").len(), 1, "one first key");
    other.close().await;
}

async fn only_setup_changes_the_mode(db: &TestDb) {
    let sneaky: Changeset =
        serde_json::from_value(json!({"app_profile": {"mode": "active"}})).expect("cs");
    let err =
        db.store.apply_changeset(&sneaky, &ChangeContext::new("x")).await.expect_err("refused");
    let StoreError::InvalidSettings(revaer_domain::settings::ChangesetError::Invalid {
        violations,
    }) = err
    else {
        panic!("expected a violation, got {err:?}");
    };
    assert_eq!(violations[0].pointer, "/app_profile/mode");
    assert_eq!(db.store.settings().await.expect("read").settings.app_profile.mode, AppMode::Setup);
}

/// A database from before scopes (migration 0007 not applied yet): its keys
/// could do everything, and after the upgrade they still can, as `admin`;
/// keys issued after it keep the scopes they are given.
async fn keys_made_before_scopes_become_admin(db: &TestDb) {
    use revaer_domain::{Scope, Scopes};
    let old = db.store.issue_api_key(&first_key()).await.expect("issue");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.config.url).await.expect("connect");
    for statement in [
        "ALTER TABLE api_keys DROP COLUMN scopes",
        "DELETE FROM _sqlx_migrations WHERE version = 7",
    ] {
        sqlx::query(statement).execute(&pool).await.expect(statement);
    }
    pool.close().await;
    let upgraded = db.another().await;
    let key = upgraded.verify_api_key(old.token.expose()).await.expect("verify").expect("usable");
    assert_eq!(key.scopes, Scopes::ADMIN);
    let reader = NewApiKey { scopes: Scopes::of(&[Scope::Read]), ..first_key() };
    let issued = upgraded.issue_api_key(&reader).await.expect("issue");
    let listed = upgraded.list_api_keys().await.expect("list");
    let found = listed.iter().find(|k| k.key_id == issued.key.key_id).expect("listed");
    assert_eq!(found.scopes, Scopes::of(&[Scope::Read]));
    let none = NewApiKey { scopes: Scopes::default(), ..first_key() };
    let refused = upgraded.issue_api_key(&none).await;
    assert!(matches!(refused, Err(StoreError::Invalid { field: "scopes", .. })), "{refused:?}");
    upgraded.close().await;
}

async fn revoking_a_key_revokes_every_key_issued_under_it(db: &TestDb) {
    let store = &db.store;
    let under = |issuer: &str, label: &str| NewApiKey {
        label: label.into(),
        issued_by: Some(issuer.to_owned()),
        ..first_key()
    };
    let root = store.issue_api_key(&first_key()).await.expect("root");
    let sub = store.issue_api_key(&under(&root.key.key_id, "sub")).await.expect("sub");
    let leaf = store.issue_api_key(&under(&sub.key.key_id, "leaf")).await.expect("leaf");
    let sibling = store.issue_api_key(&under(&root.key.key_id, "sibling")).await.expect("sib");
    assert_eq!(leaf.key.issued_by.as_deref(), Some(sub.key.key_id.as_str()));
    store.revoke_api_key(&sub.key.key_id).await.expect("revoke");
    for (issued, usable) in [(&root, true), (&sub, false), (&leaf, false), (&sibling, true)] {
        let found = store.verify_api_key(issued.token.expose()).await.expect("verify");
        assert_eq!(found.is_some(), usable, "{}", issued.key.label);
    }
    let listed = store.list_api_keys().await.expect("list");
    let stored = listed.iter().find(|k| k.key_id == leaf.key.key_id).expect("listed");
    assert!(stored.revoked_at.is_some());
    assert_eq!(stored.issued_by.as_deref(), Some(sub.key.key_id.as_str()), "read back");
    assert!(matches!(
        store.revoke_api_key(&sub.key.key_id).await,
        Err(StoreError::NotFound { .. })
    ));
}

on_both_backends!(
    revoking_a_key_revokes_every_key_issued_under_it,
    keys_made_before_scopes_become_admin,
    two_instances_setting_up_at_once_cannot_both_succeed,
    only_setup_changes_the_mode,
    setup_token_is_one_time_and_exactly_one_concurrent_use_wins,
    each_daemon_keeps_its_own_setup_token,
    a_failed_setup_consumes_nothing,
    an_expired_setup_token_is_refused,
    api_key_issue_verify_rotate_revoke_expire,
    api_keys_expire_and_bad_limits_are_refused,
);
