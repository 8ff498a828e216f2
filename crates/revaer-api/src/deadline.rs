//! A whole-body deadline: a request body must arrive complete within a
//! fixed time of the request's start, however it trickles in.
//!
//! A timer between chunks (tower-http's body timeout) would let a client
//! send one byte just under every interval and hold a connection, and a
//! handler, for as long as it likes; no crate bounds the whole body, so
//! this small wrapper does.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use http_body::{Frame, SizeHint};

/// The error a body past its deadline fails with.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} s", .0.as_secs())]
pub struct BodyTimedOut(pub Duration);

/// Gives `request`'s body a deadline of `limit` from now.
pub(crate) fn bound(request: Request, limit: Duration) -> Request {
    request.map(|inner| {
        Body::new(Deadline { inner, sleep: Box::pin(tokio::time::sleep(limit)), limit })
    })
}

struct Deadline {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // What has arrived is handed on first; only a wait is cut short.
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut(self.limit))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test(start_paused = true)]
    async fn a_trickled_body_fails_at_the_deadline_not_between_chunks() {
        let (sender, chunks) = tokio::sync::mpsc::channel::<Bytes>(1);
        let stream = futures_util::stream::unfold(chunks, |mut chunks| async move {
            chunks.recv().await.map(|chunk| (Ok::<_, std::io::Error>(chunk), chunks))
        });
        let request = bound(Request::new(Body::from_stream(stream)), Duration::from_secs(10));
        let reader = tokio::spawn(request.into_body().collect());
        // A byte a second: never a gap near the deadline, and never done.
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if sender.send(Bytes::from_static(b"x")).await.is_err() {
                break;
            }
        }
        let err = reader.await.expect("joins").expect_err("cut at the deadline");
        let timed_out = std::error::Error::source(&err)
            .is_some_and(<dyn std::error::Error>::is::<BodyTimedOut>);
        assert!(timed_out, "{err:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_in_time_is_read_whole() {
        let request = bound(Request::new(Body::from("{}")), Duration::from_secs(10));
        let bytes = request.into_body().collect().await.expect("in time").to_bytes();
        assert_eq!(&bytes[..], b"{}");
    }
}
