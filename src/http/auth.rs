//! Console sign-in: `POST /api/login`, `POST /api/logout`, `GET /api/me`, and
//! the extractor every staff-only handler takes.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{Gate, HttpError};
use crate::config::Settings;
use crate::staff::password;
use crate::staff::sessions::{SessionToken, StaffSession};
use crate::staff::throttle::SharedThrottle;
use crate::store::{AuditEntry, Writer};

/// What sign-in needs beside the [`Gate`]: the failed-sign-in throttle.
#[derive(Clone)]
pub struct SignIn {
    pub throttle: Arc<SharedThrottle>,
}

pub const COOKIE: &str = "frontdesk_session";
/// The cookie's name over https: browsers accept a `__Host-` cookie only
/// from this host itself (Secure, Path=/, no Domain), so a sibling
/// subdomain cannot plant a session of its choosing.
pub const SECURE_COOKIE: &str = "__Host-frontdesk_session";
/// Longest staff name accepted at sign-in (names are created up to 64).
const MAX_NAME_CHARS: usize = 64;

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Gate: FromRef<S>,
    SignIn: FromRef<S>,
{
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
}

#[derive(Deserialize)]
struct Credentials {
    name: String,
    password: String,
}

#[derive(Serialize)]
struct Me {
    name: String,
    role: &'static str,
}

async fn login(
    State(state): State<Gate>,
    State(sign_in): State<SignIn>,
    client: super::client::ClientAddress,
    headers: HeaderMap,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, HttpError> {
    let Json(creds) = body?;
    // Before anything is remembered about it.
    if creds.name.chars().count() > MAX_NAME_CHARS {
        return Err(HttpError::BadRequest(format!(
            "a name has at most {MAX_NAME_CHARS} characters"
        )));
    }
    let address = Some(client.0);
    // Counted before the password is checked, so a burst of parallel
    // guesses gets no more checks than the limit.
    let attempt = match sign_in.throttle.begin(&creds.name, address).await? {
        Ok(attempt) => attempt,
        Err(wait) => {
            tracing::warn!("sign-in throttled");
            return Err(HttpError::TooManyRequests(wait));
        }
    };
    let account = state
        .store
        .staff_by_name(&creds.name)
        .await?
        .filter(|a| !a.disabled);
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    // Verified even when there is no such account, so both take as long.
    let ok = password::verify(creds.password, stored).await;
    let Some(account) = account.filter(|_| ok) else {
        tracing::info!("sign-in refused");
        return Err(HttpError::WrongCredentials);
    };
    // Best effort: failures left behind only age out with the window.
    let _ = sign_in.throttle.succeeded(attempt).await;
    let (token, session) = state
        .sessions
        .create(account.id, account.name, account.role)
        .await?;
    tracing::info!(staff = session.staff.0, role = %session.role, "signed in");
    let cookie = session_cookie(&token, is_https(&state.settings, &headers));
    let mut response = Json(Me {
        name: session.name,
        role: session.role.as_str(),
    })
    .into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn logout(State(state): State<Gate>, headers: HeaderMap) -> Response {
    let https = is_https(&state.settings, &headers);
    if let Some(token) = token_from(&headers, https) {
        state.sessions.end(&token).await;
    }
    let clear = match https {
        true => format!("{SECURE_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"),
        false => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn me(session: StaffSession) -> Json<Me> {
    Json(Me {
        name: session.name,
        role: session.role.as_str(),
    })
}

/// Whether the request reached the clinic over https: the public URL is
/// https, or a TLS-terminating proxy says so. Cookies are then `Secure` and
/// named [`SECURE_COOKIE`].
pub fn is_https(settings: &Settings, headers: &HeaderMap) -> bool {
    let public_https = settings
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    public_https || forwarded_https
}

fn session_cookie(token: &SessionToken, https: bool) -> HeaderValue {
    let cookie = match https {
        true => format!(
            "{SECURE_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Strict",
            token.expose()
        ),
        false => format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            token.expose()
        ),
    };
    HeaderValue::from_str(&cookie).expect("session tokens are ASCII")
}

/// The session token from the request's cookies, if well-formed: over
/// https only the `__Host-` cookie counts, and two different values for
/// the cookie (one planted beside the real one) count as none.
pub fn token_from(headers: &HeaderMap, https: bool) -> Option<SessionToken> {
    let wanted = if https { SECURE_COOKIE } else { COOKIE };
    let mut values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == wanted)
        .map(|(_, value)| value);
    let first = values.next()?;
    if values.any(|other| other != first) {
        return None;
    }
    SessionToken::parse(first)
}

impl StaffSession {
    /// Records in the audit log that this staff member did (or was refused)
    /// `action` on `target`; an entry that cannot be written is an error,
    /// and the action must not happen.
    pub async fn audit(
        &self,
        writer: &Writer,
        action: &str,
        target: &str,
        allowed: bool,
    ) -> Result<(), HttpError> {
        let entry = AuditEntry {
            actor: self.name.clone(),
            role: self.role.as_str().to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            allowed,
        };
        writer
            .audit(entry)
            .await
            .map_err(|e| HttpError::Internal(e.into()))
    }

    /// Refuses (403) staff who do not work chats: editors.
    pub fn require_chat_role(&self) -> Result<(), HttpError> {
        if self.role.handles_chats() {
            Ok(())
        } else {
            Err(HttpError::Forbidden(
                "this needs an agent, supervisor or admin account",
            ))
        }
    }
}

impl<S> FromRequestParts<S> for StaffSession
where
    S: Send + Sync,
    Gate: FromRef<S>,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = Gate::from_ref(state);
        let token = token_from(&parts.headers, is_https(&state.settings, &parts.headers))
            .ok_or(HttpError::Unauthorized)?;
        let session = state
            .sessions
            .touch(&token)
            .await
            .ok_or(HttpError::Unauthorized)?;
        // An account disabled from the command line (another process) ends
        // its sessions on their next use.
        let active = state
            .store
            .staff_by_id(session.staff)
            .await?
            .is_some_and(|a| !a.disabled);
        if !active {
            state.sessions.end_all_for(session.staff).await;
            return Err(HttpError::Unauthorized);
        }
        Ok(session)
    }
}
