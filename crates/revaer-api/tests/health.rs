//! Health changes become `health_changed` events: a component going
//! degraded (an FsOps job failing for good, say) and recovering.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::Api;
use revaer_api_models::health::FsopsHealth;
use revaer_domain::event::HealthChanged;
use revaer_domain::{Component, Event, HealthStatus};
use revaer_service::HealthProbe;

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
    let api = Api::start_active_with(move |options| {
        options.service.fsops_health = Some(probe);
        // Only the watch publishes here.
        options.forward_engine_events = false;
    })
    .await;
    let mut events = api.events.subscribe(None).live;
    let watch = tokio::spawn(revaer_service::health::watch_health(
        api.service.clone(),
        Duration::from_millis(20),
    ));
    let next_change = async |events: &mut tokio::sync::broadcast::Receiver<_>| {
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let event: revaer_service::bus::BusEvent = events.recv().await.expect("event");
                if let Event::HealthChanged(change) = &event.event {
                    return change.clone();
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
    let degraded: HealthChanged = next_change(&mut events).await;
    assert_eq!(degraded.component, Component::Fsops);
    assert_eq!(degraded.status, HealthStatus::Degraded);
    assert_eq!(degraded.previous, Some(HealthStatus::Ok));
    assert!(degraded.reason.as_deref().is_some_and(|r| r.contains("failed")));
    failing.store(false, Ordering::SeqCst);
    let recovered = next_change(&mut events).await;
    assert_eq!(recovered.status, HealthStatus::Ok);
    assert_eq!(recovered.previous, Some(HealthStatus::Degraded));
    watch.abort();
    api.stop().await;
}
