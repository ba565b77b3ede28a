//! Connection-level rules and the shutdown drain.
//!
//! [`guard`] runs outermost, before routing: it refuses `Connection: Upgrade` requests (no route
//! speaks another protocol, and an upgraded connection would never be answered), answers 503
//! while the server drains, and puts an idle timeout on request bodies, so a body that stops
//! arriving ends in a JSON 408 and a closed connection instead of a worker held forever.
//!
//! [`Drain`] is the shutdown sequence's shared state: on SIGTERM the server stops accepting,
//! running requests get the grace period to finish, then [`Drain::expire`] makes the ones still
//! running answer 503 and streams send an `error` event before they close.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{web, HttpMessage, ResponseError};
use futures_util::Stream;
use tokio::sync::watch;

use super::AppState;
use crate::error::ApiError;

/// The `detail` of answers cut by the shutdown.
pub const SHUTTING_DOWN: &str = "Server is shutting down";

/// Shutdown state shared by every worker.
#[derive(Debug)]
pub struct Drain {
    draining: AtomicBool,
    expired: watch::Sender<bool>,
}

impl Default for Drain {
    fn default() -> Self {
        Self { draining: AtomicBool::new(false), expired: watch::channel(false).0 }
    }
}

impl Drain {
    /// The server stopped accepting: new requests on kept-alive connections answer 503.
    pub fn begin(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// The grace period is over: requests still running answer now.
    pub fn expire(&self) {
        self.begin();
        self.expired.send_replace(true);
    }

    /// Resolves once [`Drain::expire`] was called (at once if it already was).
    pub fn expired(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.expired.subscribe();
        async move {
            // An error means the sender is gone: the server is being torn down anyway.
            let _ = rx.wait_for(|expired| *expired).await;
        }
    }

    /// The 503 for requests cut by the shutdown.
    #[must_use]
    pub fn error() -> ApiError {
        ApiError::detail(StatusCode::SERVICE_UNAVAILABLE, SHUTTING_DOWN)
    }
}

/// A request body with an idle timeout: when no chunk arrives for `timeout`, the stream fails
/// and records it in `timed_out`.
struct IdleBody {
    inner: Pin<Box<tokio_stream::Timeout<Payload>>>,
    timed_out: Rc<Cell<bool>>,
    done: bool,
}

impl Stream for IdleBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(chunk)),
            Poll::Ready(Some(Err(_elapsed))) => {
                self.done = true;
                self.timed_out.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "request body timed out",
                )))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn refuse<B>(req: ServiceRequest, error: &ApiError) -> ServiceResponse<actix_web::body::EitherBody<B>> {
    let mut res = error.error_response();
    res.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
    req.into_response(res).map_into_right_body()
}

/// The outermost middleware (see the module docs).
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(refuse(req, &ApiError::internal("application state missing")));
    };
    if req.head().upgrade() {
        return Ok(refuse(req, &ApiError::bad_request("Connection upgrades are not supported")));
    }
    if state.drain.is_draining() {
        return Ok(refuse(req, &Drain::error()));
    }
    let timed_out = Rc::new(Cell::new(false));
    let timeout = Duration::from_secs(state.settings.body_timeout_seconds);
    let body = IdleBody {
        inner: Box::pin(tokio_stream::StreamExt::timeout(req.take_payload(), timeout)),
        timed_out: timed_out.clone(),
        done: false,
    };
    req.set_payload(Payload::Stream { payload: Box::pin(body) });
    let res = next.call(req).await?;
    if timed_out.get() {
        let (req, _) = res.into_parts();
        let mut res = ApiError::detail(StatusCode::REQUEST_TIMEOUT, "Request body timed out").error_response();
        res.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
        return Ok(ServiceResponse::new(req, res).map_into_right_body());
    }
    Ok(res.map_into_left_body())
}
