//! Text messages through an SMS provider's HTTP API, in the shape of
//! Twilio's Messages API: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`
//! with basic auth (the account id and its secret) and a form body of
//! `To`, `From` and `Body`. The base URL is a setting, so any provider
//! with that shape works.

use std::time::Duration;

use super::mail::SendError;
/// Numbers in E.164, the form the provider takes and opt-outs are kept in.
pub use crate::patient::e164;

/// How long one request to the provider may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Longest text sent: a few SMS segments. A longer one is cut at a word.
pub const MAX_TEXT_CHARS: usize = 480;

/// A client of the provider's API for one account and sending number.
#[derive(Clone)]
pub struct Texter {
    client: reqwest::Client,
    endpoint: String,
    sid: String,
    token: String,
    from: String,
}

impl Texter {
    pub fn new(base: &str, sid: &str, token: &str, from: &str) -> Result<Texter, String> {
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err("FRONTDESK_SMS_API_URL starts with https://".into());
        }
        if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err("FRONTDESK_SMS_ACCOUNT_SID is letters and digits".into());
        }
        if e164(from).as_deref() != Some(from) {
            return Err("FRONTDESK_SMS_FROM is a number like +15550100000".into());
        }
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| format!("the SMS client: {e}"))?;
        Ok(Texter {
            client,
            endpoint: format!(
                "{}/2010-04-01/Accounts/{sid}/Messages.json",
                base.trim_end_matches('/')
            ),
            sid: sid.to_owned(),
            token: token.to_owned(),
            from: from.to_owned(),
        })
    }

    /// Whether `signature` (the `X-Twilio-Signature` header) is the
    /// provider's: base64 of HMAC-SHA1, keyed with the account's secret,
    /// over the URL the provider posted to followed by every form
    /// parameter's name and value, sorted by name.
    pub fn signed(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        use base64::Engine;
        use hmac::{Hmac, Mac};
        let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim())
        else {
            return false;
        };
        let mut sorted: Vec<&(String, String)> = params.iter().collect();
        sorted.sort();
        let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(self.token.as_bytes()) else {
            return false;
        };
        mac.update(url.as_bytes());
        for (name, value) in sorted {
            mac.update(name.as_bytes());
            mac.update(value.as_bytes());
        }
        mac.verify_slice(&expected).is_ok()
    }

    /// Where the API is, for the start banner (no secret in it).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends `body` to the number `to` as the patient typed it.
    pub async fn send(&self, to: &str, body: &str) -> Result<(), SendError> {
        let to = e164(to).ok_or(SendError::Permanent("not a number texts can reach"))?;
        let body = shorten(body, MAX_TEXT_CHARS);
        let answer = self
            .client
            .post(&self.endpoint)
            .basic_auth(&self.sid, Some(&self.token))
            .form(&[
                ("To", to.as_str()),
                ("From", self.from.as_str()),
                ("Body", &body),
            ])
            .send()
            .await
            .map_err(|e| match e.is_timeout() {
                true => SendError::Transient("sms timeout"),
                false => SendError::Transient("sms connection"),
            })?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Transient("sms provider busy or failing"))
        } else {
            Err(SendError::Permanent("sms provider refused the message"))
        }
    }
}

/// At most `max` characters, cut at a word and marked with "…".
fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let at = cut.rfind(char::is_whitespace).unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_patients_type_them_become_e164() {
        assert_eq!(e164("555-010-1234").as_deref(), Some("+15550101234"));
        assert_eq!(e164("(555) 010 1234").as_deref(), Some("+15550101234"));
        assert_eq!(e164("1 555 010 1234").as_deref(), Some("+15550101234"));
        assert_eq!(e164("+44 20 7946 0958").as_deref(), Some("+442079460958"));
        assert_eq!(e164("020 7946 0958"), None, "no guessing at a country");
    }

    #[test]
    fn long_texts_are_cut_at_a_word() {
        let long = "word ".repeat(200);
        let short = shorten(&long, MAX_TEXT_CHARS);
        assert!(short.chars().count() <= MAX_TEXT_CHARS);
        assert!(short.ends_with("word…"));
        assert_eq!(shorten(" hi ", 10), "hi");
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let ok = Texter::new("https://api.example.org", "AC123", "t", "+15550100000");
        assert!(ok.is_ok());
        assert!(Texter::new("ftp://x", "AC123", "t", "+15550100000").is_err());
        assert!(Texter::new("https://x", "AC/../1", "t", "+15550100000").is_err());
        assert!(Texter::new("https://x", "AC123", "t", "555-0100").is_err());
    }
}
