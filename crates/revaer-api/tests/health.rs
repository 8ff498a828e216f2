//! Health changes become `health_changed` events: a component going
//! degraded (an FsOps job failing for good, say) and recovering.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::Api;
use revaer_api::state::HealthProbe;
use revaer_api_models::health::FsopsHealth;
use revaer_domain::HealthStatus;

#[tokio::test]
async fn component_changes_are_published_as_events() {
    let failing = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&failing);
    let probe: HealthProbe = Arc::new(move || {
        let degraded = flag.load(Ordering::SeqCst);
        Box::pin(async move {
            FsopsHealth {
                status: if degraded { HealthStatus::Degraded } else { HealthStatus::Ok },
                reason: degraded.then(|| "1 FsOps job(s) failed for good".to_owned()),
                queued: 0,
                running: 0,
                failed: u64::from(degraded),
                missing_tools: Vec::new(),
            }
        })
    });
    let api = Api::start_active_with(move |state| state.with_fsops_health(probe)).await;
    let mut events = api.events.subscribe(None).live;
    let watch = api.state.spawn_health_watch(Duration::from_millis(20));
    let next_change = async |events: &mut tokio::sync::broadcast::Receiver<_>| {
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let event: Arc<revaer_api::events::BusEvent> = events.recv().await.expect("event");
                if event.kind == "health_changed" {
                    return event;
                }
            }
        })
        .await
        .expect("a health change in time")
    };
    // Everything healthy at first: nothing to report.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(events.try_recv().is_err(), "no event while healthy");
    failing.store(true, Ordering::SeqCst);
    let degraded = next_change(&mut events).await;
    assert_eq!(degraded.data["component"], "fsops");
    assert_eq!(degraded.data["status"], "degraded");
    assert_eq!(degraded.data["previous"], "ok");
    assert!(degraded.data["reason"].as_str().is_some_and(|r| r.contains("failed")));
    failing.store(false, Ordering::SeqCst);
    let recovered = next_change(&mut events).await;
    assert_eq!(recovered.data["status"], "ok");
    assert_eq!(recovered.data["previous"], "degraded");
    watch.abort();
    api.stop().await;
}
