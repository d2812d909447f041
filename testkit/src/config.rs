//! The binary's config file as TOML text, built section by section from a common base, so that a
//! test or a benchmark says only what differs.

use std::fmt;
use std::fmt::Write as _;

/// A config file for `csp-alert-digest`: sections in the order they were first set, keys in the
/// order set; setting a key again replaces its value in place. Its text (`to_string`) starts
/// with a blank line and separates sections by one.
///
/// ```
/// let text = testkit::ConfigToml::graph("http://127.0.0.1:9", "tenant", "client")
///     .source("max_attempts", 2)
///     .smtp("port", 2525)
///     .to_string();
/// assert!(text.contains("\nmax_attempts = 2\n"));
/// assert!(text.ends_with("transport = \"smtp\"\n\n[mail.smtp]\nport = 2525\n"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigToml {
    sections: Vec<(String, Vec<(String, String)>)>,
}

/// `ConfigToml::digest(key, value)` and the like: [`ConfigToml::set`] in that section.
macro_rules! section_setters {
    ($($name:ident => $section:literal,)*) => {$(
        #[doc = concat!("`key = value` in `[", $section, "]`.")]
        #[must_use]
        pub fn $name(self, key: &str, value: impl Toml) -> Self {
            self.set($section, key, value)
        }
    )*};
}

impl ConfigToml {
    /// Alerts read from the file (or folder) `path`; see [`Self::base`] for the rest.
    pub fn file(path: &str) -> Self {
        Self::base("file").source("path", path)
    }

    /// Alerts collected from Microsoft Graph at `url`, which is the login URL too, as the app
    /// `client_id` of `tenant_id` (the secret comes from the environment); see [`Self::base`] for
    /// the rest.
    pub fn graph(url: &str, tenant_id: &str, client_id: &str) -> Self {
        Self::base("graph")
            .source("tenant_id", tenant_id)
            .source("client_id", client_id)
            .source("graph_url", url)
            .source("login_url", url)
    }

    /// `[digest]` with the reports under `out` and the state in `state` (the defaults, written
    /// out), `[source]` of this `kind`, and `[mail]` from `digest@partner.example` to
    /// `secops@partner.example` (the file transport).
    fn base(kind: &str) -> Self {
        Self {
            sections: Vec::new(),
        }
        .digest("output_dir", "out")
        .digest("state_dir", "state")
        .source("kind", kind)
        .mail("from", "digest@partner.example")
        .mail("to", ["secops@partner.example"])
    }

    section_setters! {
        digest => "digest",
        source => "source",
        names => "names",
        mail => "mail",
    }

    /// A `[mail.smtp]` key; the first also sets `[mail] transport = "smtp"`.
    #[must_use]
    pub fn smtp(mut self, key: &str, value: impl Toml) -> Self {
        let this = if self.section("mail.smtp").is_some() {
            self
        } else {
            self.mail("transport", "smtp")
        };
        this.set("mail.smtp", key, value)
    }

    /// `key = value` in `[section]`, the value given as a Rust value.
    #[must_use]
    pub fn set(self, section: &str, key: &str, value: impl Toml) -> Self {
        self.set_raw(section, key, &value.toml())
    }

    /// Each `key = value` line of `lines` (the value as TOML text) set in `[section]`; blank lines
    /// are skipped. For settings a test already holds as text.
    #[must_use]
    pub fn lines(self, section: &str, lines: &str) -> Self {
        lines
            .lines()
            .filter(|line| !line.trim().is_empty())
            .fold(self, |this, line| {
                let (key, value) = line
                    .split_once('=')
                    .unwrap_or_else(|| panic!("not a `key = value` line: {line:?}"));
                this.set_raw(section, key.trim(), value.trim())
            })
    }

    /// The config without `key` in `[section]`.
    #[must_use]
    pub fn without(mut self, section: &str, key: &str) -> Self {
        if let Some(keys) = self.section(section) {
            keys.retain(|(k, _)| k != key);
        }
        self
    }

    fn set_raw(mut self, section: &str, key: &str, value: &str) -> Self {
        if self.section(section).is_none() {
            self.sections.push((section.to_owned(), Vec::new()));
        }
        let keys = self.section(section).expect("just added");
        match keys.iter_mut().find(|(k, _)| k == key) {
            Some((_, old)) => value.clone_into(old),
            None => keys.push((key.to_owned(), value.to_owned())),
        }
        self
    }

    fn section(&mut self, name: &str) -> Option<&mut Vec<(String, String)>> {
        self.sections
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, keys)| keys)
    }
}

impl fmt::Display for ConfigToml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, keys) in &self.sections {
            write!(f, "\n[{name}]\n")?;
            for (key, value) in keys {
                writeln!(f, "{key} = {value}")?;
            }
        }
        Ok(())
    }
}

/// A value as TOML text: strings are basic strings, escaped as needed.
pub trait Toml {
    fn toml(self) -> String;
}

impl Toml for &str {
    fn toml(self) -> String {
        let mut out = String::with_capacity(self.len() + 2);
        out.push('"');
        for c in self.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    write!(out, "\\u{:04X}", u32::from(c)).expect("write to a String");
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

impl Toml for String {
    fn toml(self) -> String {
        self.as_str().toml()
    }
}

impl Toml for bool {
    fn toml(self) -> String {
        self.to_string()
    }
}

macro_rules! toml_integers {
    ($($t:ty),*) => {$(
        impl Toml for $t {
            fn toml(self) -> String {
                self.to_string()
            }
        }
    )*};
}
toml_integers!(u16, u32, u64, usize, i32, i64);

impl Toml for &[&str] {
    fn toml(self) -> String {
        let items: Vec<String> = self.iter().map(|item| item.toml()).collect();
        format!("[{}]", items.join(", "))
    }
}

impl<const N: usize> Toml for [&str; N] {
    fn toml(self) -> String {
        self.as_slice().toml()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_sections_of_keys_with_a_blank_line_between() {
        let text = ConfigToml::file("alerts.json")
            .digest("timezone", "Europe/Stockholm")
            .digest("output_dir", "reports")
            .mail("to", ["a@partner.example", "b@partner.example"])
            .to_string();
        assert_eq!(
            text,
            "\n[digest]\noutput_dir = \"reports\"\nstate_dir = \"state\"\ntimezone = \
             \"Europe/Stockholm\"\n\n[source]\nkind = \"file\"\npath = \"alerts.json\"\n\n\
             [mail]\nfrom = \"digest@partner.example\"\nto = [\"a@partner.example\", \
             \"b@partner.example\"]\n"
        );
    }

    #[test]
    fn smtp_settings_switch_the_transport_and_lines_replace_or_add() {
        let text = ConfigToml::graph("http://127.0.0.1:1", "t", "c")
            .smtp("host", "127.0.0.1")
            .smtp("port", 25_u16)
            .lines("mail.smtp", "port = 2525\n\nattempts = 1")
            .without("digest", "state_dir")
            .source("secret", "a\"b\\c\r\n")
            .to_string();
        assert!(text.contains("\n[mail]\nfrom = \"digest@partner.example\"\nto = [\"secops@partner.example\"]\ntransport = \"smtp\"\n"), "{text}");
        assert!(
            text.ends_with("\n\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = 2525\nattempts = 1\n"),
            "{text}"
        );
        assert!(!text.contains("state_dir"), "{text}");
        assert!(
            text.contains("secret = \"a\\\"b\\\\c\\u000D\\u000A\"\n"),
            "{text}"
        );
    }
}
