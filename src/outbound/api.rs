//! What patients send back. `GET`/`POST /channels/email/unsubscribe`: the
//! link at the end of every e-mail (a page with a button, and RFC 8058's
//! one-click POST for mail programs; a link scanner's GET changes
//! nothing). `POST /channels/sms/inbound`: the SMS provider's webhook for
//! texts to the clinic's number. Only the provider
//! can call it (its signature is checked against `FRONTDESK_PUBLIC_URL` and
//! the path); it handles the keywords every texting number must (STOP,
//! START, HELP and their usual synonyms, in English and Spanish) with a
//! TwiML answer, and hands any other text to the number's chat
//! (`chat::text`), whose replies go out through the outbox: the webhook
//! answers once the text is stored, with an empty TwiML response.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Query;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Html;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::sms::{Texter, e164};
use crate::chat::text::Taken;
use crate::clinic::ClinicHandle;
use crate::http::HttpError;
use crate::lang::Lang;
use crate::patient::Channel;
use crate::store::Store;
use crate::utterance::Utterance;

/// The webhook's path (the provider is configured with the public URL
/// and this).
pub const SMS_INBOUND: &str = "/channels/sms/inbound";
/// The unsubscribe link's path.
pub const UNSUBSCRIBE: &str = "/channels/email/unsubscribe";
/// Largest webhook body taken (a text is at most 1,600 characters).
const MAX_BODY_BYTES: usize = 16 * 1024;
const MAX_TEXT_CHARS: usize = 1600;

/// The handles the webhook uses.
#[derive(Clone)]
pub struct OutboundState {
    pub store: Store,
    /// `None` when text messages are off: the webhook is then 404.
    pub texter: Option<Texter>,
    pub public_url: Option<String>,
    pub clinic: ClinicHandle,
    pub engine: Arc<crate::dialog::Engine>,
    pub unsubscribe: super::UnsubscribeKey,
    /// Chats by text; `None` when text messages are off.
    pub texts: Option<Arc<crate::chat::text::TextChats>>,
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    OutboundState: FromRef<S>,
{
    Router::new()
        .route(SMS_INBOUND, post(sms_inbound))
        .route(UNSUBSCRIBE, get(unsubscribe_page).post(unsubscribe))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// What a text asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Stop,
    Start,
    Help,
}

fn keyword(text: &str) -> Option<Keyword> {
    let word = text.trim().trim_end_matches(['.', '!']).to_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "ALTO" | "PARAR"
        | "BAJA" => Some(Keyword::Stop),
        "START" | "YES" | "UNSTOP" | "SUBSCRIBE" | "ALTA" => Some(Keyword::Start),
        "HELP" | "INFO" | "AYUDA" => Some(Keyword::Help),
        _ => None,
    }
}

async fn sms_inbound(
    State(state): State<OutboundState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    let Some(texter) = &state.texter else {
        return Err(HttpError::NotFound);
    };
    let Some(base) = state.public_url.as_deref() else {
        tracing::warn!(
            "an incoming text was refused: FRONTDESK_PUBLIC_URL is needed to check its signature"
        );
        return Err(HttpError::Forbidden(
            "incoming texts need FRONTDESK_PUBLIC_URL to check their signature",
        ));
    };
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| HttpError::BadRequest("the body is not a form".into()))?;
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let url = format!("{}{SMS_INBOUND}", base.trim_end_matches('/'));
    if !texter.signed(&url, &params, signature) {
        tracing::warn!("an incoming text was refused: its signature is not the provider's");
        return Err(HttpError::Forbidden(
            "the signature is not the SMS provider's",
        ));
    }
    let field = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let from = field("From")
        .and_then(e164)
        .ok_or_else(|| HttpError::BadRequest("From is not a phone number".into()))?;
    let text = field("Body").unwrap_or_default();
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(HttpError::BadRequest(format!(
            "Body is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    let clinic = state.clinic.get().name.clone();
    // Analysed once, here: for the keywords' language, and for the chat.
    let said = Utterance::analyse(text.trim());
    let lang = said.detected().or(Lang::En);
    let reply = match keyword(text) {
        Some(Keyword::Stop) => {
            state.store.opt_out(Channel::Text, &from).await?;
            tracing::info!("a number opted out of texts");
            stopped(&clinic, lang)
        }
        Some(Keyword::Start) => {
            state.store.opt_in(Channel::Text, &from).await?;
            tracing::info!("a number opted back in to texts");
            started(&clinic, lang)
        }
        Some(Keyword::Help) => help(&clinic, lang),
        None => return chat(&state, &from, field("MessageSid"), said, lang).await,
    };
    Ok(twiml(&reply))
}

/// Any other text is a message in the number's chat: stored, then
/// answered by text through the outbox (the webhook's own answer is
/// empty). A number that opted out must text START first; a text that may
/// mean danger still gets the guidance at once.
async fn chat(
    state: &OutboundState,
    from: &str,
    sid: Option<&str>,
    said: Utterance,
    lang: Lang,
) -> Result<Response, HttpError> {
    let Some(texts) = &state.texts else {
        return Err(HttpError::NotFound);
    };
    if state.store.opted_out(Channel::Text, from).await? {
        tracing::info!("a text from a number that opted out was not taken into a chat");
        return Ok(match state.engine.safety_check(&said, lang) {
            Some((_, guidance)) => twiml(&guidance.text),
            None => twiml(&opted_out(lang)),
        });
    }
    let id = sid
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::BadRequest("MessageSid is missing or malformed".into()))?;
    let incoming = crate::chat::text::Incoming { id, said };
    match texts.take(from, incoming).await {
        Taken::Stored | Taken::Refused(_) => Ok(empty_twiml()),
        Taken::Busy => Err(HttpError::Unavailable(
            "the text could not be taken just now; send it again",
        )),
    }
}

fn opted_out(lang: Lang) -> String {
    match lang {
        Lang::En => "You opted out of texts from us. Reply START to chat by text again. In an emergency, call 911.".into(),
        Lang::Es => "Usted pidió no recibir mensajes. Responda ALTA para volver a escribirnos. En una emergencia, llame al 911.".into(),
    }
}

fn stopped(clinic: &str, lang: Lang) -> String {
    match lang {
        Lang::En => {
            format!("{clinic}: you will get no more texts from us. Reply START to get them again.")
        }
        Lang::Es => format!(
            "{clinic}: no recibirá más mensajes de texto. Responda ALTA para recibirlos de nuevo."
        ),
    }
}

fn started(clinic: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{clinic}: texts about your appointments are on again. Reply STOP to stop them."
        ),
        Lang::Es => format!(
            "{clinic}: los mensajes sobre sus citas están activos de nuevo. Responda ALTO para detenerlos."
        ),
    }
}

fn help(clinic: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{clinic}: text your question to this number and our automated assistant will answer; ask for a person at any time. We also send messages about your appointments. It is not for medical advice. In an emergency, call 911. Reply STOP to stop texts."
        ),
        Lang::Es => format!(
            "{clinic}: escriba su pregunta a este número y nuestro asistente automático le responderá; puede pedir hablar con una persona cuando quiera. También enviamos mensajes sobre sus citas. No es para consejos médicos. En una emergencia, llame al 911. Responda ALTO para no recibir más mensajes."
        ),
    }
}

/// An unsubscribe link's query.
#[derive(serde::Deserialize)]
struct Link {
    address: String,
    token: String,
}

/// The page the link opens: what it does, and the button that does it.
async fn unsubscribe_page(
    State(state): State<OutboundState>,
    link: Result<Query<Link>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let clinic = state.clinic.get().name.clone();
    let Some(Query(link)) = link
        .ok()
        .filter(|Query(l)| state.unsubscribe.valid(&l.address, &l.token))
    else {
        return bad_link(&clinic);
    };
    let query = serde_urlencoded::to_string([
        ("address", link.address.as_str()),
        ("token", link.token.as_str()),
    ])
    .unwrap_or_default();
    page(
        axum::http::StatusCode::OK,
        &clinic,
        &format!(
            "<p>Stop e-mails about your appointments to <strong>{}</strong>?</p>\
             <form method=\"post\" action=\"{UNSUBSCRIBE}?{}\"><button type=\"submit\">Stop e-mails</button></form>\
             <p lang=\"es\">¿Dejar de recibir correos sobre sus citas? Use el botón.</p>",
            escape(&link.address),
            escape(&query)
        ),
    )
}

/// The button, or a mail program's one-click POST: no more e-mails.
async fn unsubscribe(
    State(state): State<OutboundState>,
    link: Result<Query<Link>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, HttpError> {
    let clinic = state.clinic.get().name.clone();
    let Some(Query(link)) = link
        .ok()
        .filter(|Query(l)| state.unsubscribe.valid(&l.address, &l.token))
    else {
        return Ok(bad_link(&clinic));
    };
    state
        .store
        .opt_out(Channel::Email, &link.address.trim().to_lowercase())
        .await?;
    tracing::info!("an address opted out of e-mails");
    Ok(page(
        axum::http::StatusCode::OK,
        &clinic,
        "<p>Done: you will get no more e-mails about your appointments. You can still chat with us on our website or call the clinic.</p>\
         <p lang=\"es\">Listo: no recibirá más correos sobre sus citas.</p>",
    ))
}

fn bad_link(clinic: &str) -> Response {
    page(
        axum::http::StatusCode::BAD_REQUEST,
        clinic,
        "<p>This link is not valid or was cut short. Please use the whole link from the e-mail, or call the clinic.</p>\
         <p lang=\"es\">Este enlace no es válido o está incompleto.</p>",
    )
}

fn page(status: axum::http::StatusCode, clinic: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>E-mails from {clinic}</title>\
         <style>body{{font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         button{{font-size:1rem;padding:.6rem 1.2rem}}</style></head>\
         <body><main><h1>E-mails from {clinic}</h1>{body}</main></body></html>",
        clinic = escape(clinic)
    );
    (status, Html(html)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A TwiML response that answers with one text.
fn twiml(text: &str) -> Response {
    xml(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>",
        escape(text)
    ))
}

/// A TwiML response that sends nothing (the answer goes by the outbox).
fn empty_twiml() -> Response {
    xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".to_owned())
}

fn xml(body: String) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_in_both_languages_and_nothing_else() {
        assert_eq!(keyword(" stop "), Some(Keyword::Stop));
        assert_eq!(keyword("Alto."), Some(Keyword::Stop));
        assert_eq!(keyword("START"), Some(Keyword::Start));
        assert_eq!(keyword("ayuda"), Some(Keyword::Help));
        assert_eq!(keyword("please stop texting"), None);
        assert_eq!(keyword("what time is my visit"), None);
    }

    #[test]
    fn replies_are_escaped_twiml() {
        let r = twiml("A & B <ok>");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/xml; charset=utf-8");
    }
}
