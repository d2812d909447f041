//! What an analyst decided about an alert — Legitimate, Fraud, Ignore, or Investigating — the
//! words they may write for it (English always, Swedish too when the digest is Swedish), and the
//! status change each decision asks the service for.

use std::fmt;

use crate::alert::{ResolvedReason, Status};
use crate::render::lang::Language;
use crate::source::graph::alert::Change;

/// An analyst's decision about one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Expected activity, or a false positive: resolved as `legitimate`.
    Legitimate,
    /// Unauthorized abuse: resolved as `fraud`.
    Fraud,
    /// An old alert: resolved as `ignore`.
    Ignore,
    /// Not resolved yet: status `investigating`.
    Investigating,
}

/// A table of the words for each decision, lower case.
pub type Words = &'static [(&'static str, Decision)];

/// The English words, accepted in every language.
pub const ENGLISH: Words = &[
    ("legitimate", Decision::Legitimate),
    ("fraud", Decision::Fraud),
    ("ignore", Decision::Ignore),
    ("investigating", Decision::Investigating),
];

/// The Swedish words, accepted when `[digest] language` is Swedish: the first of each decision
/// is the one documented; the others are the forms people write anyway (without å/ä/ö, as some
/// keyboards and exports leave them; the present tense of "undersöka").
pub const SWEDISH: Words = &[
    ("legitim", Decision::Legitimate),
    ("legitimt", Decision::Legitimate),
    ("bedrägeri", Decision::Fraud),
    ("bedrageri", Decision::Fraud),
    ("ignorera", Decision::Ignore),
    ("undersöks", Decision::Investigating),
    ("undersoks", Decision::Investigating),
    ("undersöker", Decision::Investigating),
    ("undersoker", Decision::Investigating),
];

/// The word tables a digest in `language` accepts, English first.
pub fn decision_words(language: Language) -> &'static [Words] {
    match language {
        Language::English => &[ENGLISH],
        Language::Swedish => &[ENGLISH, SWEDISH],
    }
}

impl Decision {
    /// Reads a decision word from `tables`: case-insensitive, surrounding blanks ignored, and
    /// å/ä/ö also when written as a letter plus a combining mark (as macOS writes them).
    pub fn parse_in(word: &str, tables: &[Words]) -> Option<Self> {
        let word = compose_swedish(&word.trim().to_lowercase());
        tables
            .iter()
            .flat_map(|table| table.iter())
            .find(|(w, _)| *w == word)
            .map(|(_, decision)| *decision)
    }

    /// Reads a decision word in the words a digest in `language` accepts.
    pub fn parse(word: &str, language: Language) -> Option<Self> {
        Self::parse_in(word, decision_words(language))
    }

    /// The English word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legitimate => "legitimate",
            Self::Fraud => "fraud",
            Self::Ignore => "ignore",
            Self::Investigating => "investigating",
        }
    }

    /// The status and resolved reason the alert should end with.
    pub fn target(self) -> (Status, Option<ResolvedReason>) {
        match self {
            Self::Legitimate => (Status::Resolved, Some(ResolvedReason::Legitimate)),
            Self::Fraud => (Status::Resolved, Some(ResolvedReason::Fraud)),
            Self::Ignore => (Status::Resolved, Some(ResolvedReason::Ignore)),
            Self::Investigating => (Status::Investigating, None),
        }
    }

    /// The update that makes it so.
    pub fn change(self) -> Change {
        match self {
            Self::Investigating => Change {
                status: "investigating",
                resolved_reason: None,
            },
            resolved => Change {
                status: "resolved",
                resolved_reason: Some(resolved.as_str()),
            },
        }
    }

    /// "resolved (fraud)" or "investigating", for plans and reports.
    pub fn target_text(self) -> String {
        match self {
            Self::Investigating => "investigating".to_owned(),
            resolved => format!("resolved ({})", resolved.as_str()),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The accepted words, for an error message: `legitimate, fraud, ignore or investigating`.
pub fn accepted_words(tables: &[Words]) -> String {
    let mut words: Vec<&str> = Vec::new();
    for table in tables {
        let mut seen = Vec::new();
        for (word, decision) in *table {
            // The first word of each decision per table: the documented one.
            if !seen.contains(decision) {
                seen.push(*decision);
                words.push(word);
            }
        }
    }
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_owned(),
        None => String::new(),
    }
}

/// Composes a, o + U+0308 (diaeresis) and a + U+030A (ring above) into ä, ö and å.
fn compose_swedish(word: &str) -> String {
    word.replace("a\u{308}", "ä")
        .replace("o\u{308}", "ö")
        .replace("a\u{30A}", "å")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_words_are_read_in_any_case_with_blanks_around() {
        for (word, decision) in [
            ("legitimate", Decision::Legitimate),
            ("Fraud", Decision::Fraud),
            (" IGNORE ", Decision::Ignore),
            ("Investigating\t", Decision::Investigating),
        ] {
            assert_eq!(
                Decision::parse(word, Language::English),
                Some(decision),
                "{word:?}"
            );
        }
        for unknown in [
            "",
            "fruad",
            "resolved",
            "legit",
            "bedrägeri",
            "false positive",
        ] {
            assert_eq!(
                Decision::parse(unknown, Language::English),
                None,
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn swedish_words_are_read_alongside_english_when_the_digest_is_swedish() {
        let swedish = &[ENGLISH, SWEDISH];
        for (word, decision) in [
            ("legitim", Decision::Legitimate),
            ("Legitimt", Decision::Legitimate),
            ("BEDRÄGERI", Decision::Fraud),
            ("bedrageri", Decision::Fraud),
            ("bedra\u{308}geri", Decision::Fraud),
            ("Ignorera", Decision::Ignore),
            ("undersöks", Decision::Investigating),
            ("Undersöker", Decision::Investigating),
            ("fraud", Decision::Fraud),
        ] {
            assert_eq!(
                Decision::parse_in(word, swedish),
                Some(decision),
                "{word:?}"
            );
        }
        assert_eq!(Decision::parse_in("bedrägeri", &[ENGLISH]), None);
        assert_eq!(
            Decision::parse("bedrägeri", Language::Swedish),
            Some(Decision::Fraud),
            "a Swedish digest's words"
        );
        assert_eq!(
            Decision::parse("Fraud", Language::Swedish),
            Some(Decision::Fraud)
        );
        assert_eq!(
            accepted_words(swedish),
            "legitimate, fraud, ignore, investigating, legitim, bedrägeri, ignorera or undersöks"
        );
        assert_eq!(
            accepted_words(decision_words(Language::English)),
            "legitimate, fraud, ignore or investigating"
        );
    }

    #[test]
    fn each_decision_asks_for_its_status_and_reason() {
        assert_eq!(
            Decision::Fraud.change().body(),
            br#"{"status":"resolved","resolvedReason":"fraud"}"#
        );
        assert_eq!(
            Decision::Legitimate.target(),
            (Status::Resolved, Some(ResolvedReason::Legitimate))
        );
        assert_eq!(
            Decision::Ignore.change().resolved_reason,
            Some(ResolvedReason::Ignore.as_str())
        );
        assert_eq!(
            Decision::Investigating.change().body(),
            br#"{"status":"investigating"}"#
        );
        assert_eq!(
            Decision::Investigating.target(),
            (Status::Investigating, None)
        );
    }
}
