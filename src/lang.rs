//! The languages a patient can be served in, parsed once at the edge. (Which
//! language a message is written in is part of analysing it: `utterance`.)

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A supported conversation and article language.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English, the default.
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// Every supported language, default first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The BCP 47 code, as used on the wire and in knowledge files.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }
}

/// The error for a language code Frontdesk does not serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported language {0:?}: expected \"en\" or \"es\"")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;

    /// Accepts `en`/`es` in any case, and region-tagged forms like `es-MX`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let primary = s.split(['-', '_']).next().unwrap_or_default();
        match primary.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "es" => Ok(Lang::Es),
            _ => Err(UnknownLang(s.to_owned())),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Month names, January first, lowercase and unaccented.
pub const MONTHS_EN: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
pub const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_region_tags() {
        assert_eq!("en".parse(), Ok(Lang::En));
        assert_eq!("ES".parse(), Ok(Lang::Es));
        assert_eq!("es-MX".parse(), Ok(Lang::Es));
        assert!("fr".parse::<Lang>().is_err());
        assert!("".parse::<Lang>().is_err());
    }
}
