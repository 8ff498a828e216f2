//! Test databases (from `revaer_store::testing`) and a macro that runs a
//! test on both backends.
#![allow(dead_code)]

#[allow(unused_imports, reason = "each test binary uses part of it")]
pub use revaer_store::testing::{TestDb, WAIT, admin_url};

/// Runs one async test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.store.close().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let db = $crate::common::TestDb::postgres().await;
                    super::$name(&db).await;
                    db.store.close().await;
                }
            }
        )+
    };
}
