//! The forwarder: every engine, FsOps and settings event onto the bus, as
//! typed values. When the bus falls behind a source (the source's channel
//! dropped events), it says so with an `events_dropped` event.

use revaer_domain::event::{EventSource, EventsDropped, SettingsChanged};
use revaer_domain::{EngineEvent, Event, FsopsEvent};
use revaer_store::SettingsUpdate;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::bus::EventBus;

/// What the forwarder reads, each when the process has it.
#[derive(Debug, Default)]
pub struct EventSources {
    /// The engine's events.
    pub engine: Option<broadcast::Receiver<EngineEvent>>,
    /// FsOps' events.
    pub fsops: Option<broadcast::Receiver<FsopsEvent>>,
    /// New settings revisions.
    pub settings: Option<broadcast::Receiver<SettingsUpdate>>,
}

impl EventSources {
    /// The engine's events only.
    pub fn engine(engine: broadcast::Receiver<EngineEvent>) -> Self {
        Self { engine: Some(engine), ..Self::default() }
    }

    /// FsOps' events only.
    pub fn fsops(fsops: broadcast::Receiver<FsopsEvent>) -> Self {
        Self { fsops: Some(fsops), ..Self::default() }
    }

    fn is_empty(&self) -> bool {
        self.engine.is_none() && self.fsops.is_none() && self.settings.is_none()
    }
}

/// The next message of an optional receiver; never resolves without one.
async fn next<T: Clone>(receiver: &mut Option<broadcast::Receiver<T>>) -> Result<T, RecvError> {
    match receiver {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Says how many events a source dropped.
fn dropped(bus: &EventBus, source: EventSource, missed: u64) {
    bus.publish(Event::EventsDropped(EventsDropped { source, missed }));
}

/// Runs until every source has ended.
pub async fn forward_events(bus: EventBus, mut sources: EventSources) {
    while !sources.is_empty() {
        tokio::select! {
            event = next(&mut sources.engine) => match event {
                Ok(event) => { bus.publish(event); }
                Err(RecvError::Lagged(missed)) => dropped(&bus, EventSource::Engine, missed),
                Err(RecvError::Closed) => sources.engine = None,
            },
            event = next(&mut sources.fsops) => match event {
                Ok(event) => { bus.publish(event); }
                Err(RecvError::Lagged(missed)) => dropped(&bus, EventSource::Fsops, missed),
                Err(RecvError::Closed) => sources.fsops = None,
            },
            update = next(&mut sources.settings) => match update {
                Ok(update) => {
                    let revision = update.revision;
                    bus.publish(Event::SettingsChanged(SettingsChanged { revision }));
                }
                Err(RecvError::Lagged(missed)) => dropped(&bus, EventSource::Settings, missed),
                Err(RecvError::Closed) => sources.settings = None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use revaer_domain::event::{EngineHealthChanged, FsopsStarted};
    use revaer_domain::{HealthStatus, InfoHash};

    use super::*;

    fn health() -> EngineEvent {
        EngineEvent::Health(EngineHealthChanged { status: HealthStatus::Ok, reason: None })
    }

    #[tokio::test]
    async fn events_arrive_typed_and_lost_ones_are_reported() {
        let bus = EventBus::new(64);
        let mut subscription = bus.subscribe(None);
        let (engine_tx, engine_rx) = broadcast::channel(2);
        let (fsops_tx, fsops_rx) = broadcast::channel(4);
        // Five events into a channel of two before the forwarder reads:
        // three are lost.
        for _ in 0..5 {
            engine_tx.send(health()).expect("send");
        }
        let torrent = InfoHash::from_bytes([2; 20]);
        let started = FsopsStarted { torrent, job: 1, attempt: 1, trace_id: Some("t".into()) };
        fsops_tx.send(FsopsEvent::Started(started.clone())).expect("send");
        drop(fsops_tx);
        let sources =
            EventSources { engine: Some(engine_rx), fsops: Some(fsops_rx), settings: None };
        let forwarder = tokio::spawn(forward_events(bus.clone(), sources));
        let mut seen = Vec::new();
        while seen.len() < 4 {
            seen.push(subscription.live.recv().await.expect("event").event.clone());
        }
        assert!(seen.contains(&Event::EventsDropped(EventsDropped {
            source: EventSource::Engine,
            missed: 3
        })));
        assert_eq!(seen.iter().filter(|e| matches!(e, Event::Health(_))).count(), 2);
        assert!(seen.contains(&Event::FsopsStarted(started)));
        // A closed FsOps source is dropped; the last source's end ends the run.
        drop(engine_tx);
        tokio::time::timeout(std::time::Duration::from_secs(5), forwarder)
            .await
            .expect("ends with the engine")
            .expect("no panic");
    }
}
