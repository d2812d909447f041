//! Following `@odata.nextLink` safely: verbatim, only to the configured host and scheme, never
//! with user-info (the token must not leave the configured host), never in a loop, and never
//! past the page cap.

use std::collections::HashSet;

use reqwest::Url;

use super::error::GraphError;

/// Watches one paging run.
#[derive(Debug)]
pub(crate) struct Guard {
    origin: Url,
    seen: HashSet<String>,
    max_pages: usize,
    /// What the service calls its next link, and the config key of the origin, for errors.
    link: &'static str,
    origin_key: &'static str,
}

impl Guard {
    /// For Graph's `@odata.nextLink` under `graph_url`.
    pub fn new(origin: &Url, max_pages: usize) -> Self {
        Self::named(origin, max_pages, "@odata.nextLink", "graph_url")
    }

    /// For another API: `link` names its next link in errors, `origin_key` the config key.
    pub fn named(
        origin: &Url,
        max_pages: usize,
        link: &'static str,
        origin_key: &'static str,
    ) -> Self {
        Self {
            origin: origin.clone(),
            seen: HashSet::new(),
            max_pages,
            link,
            origin_key,
        }
    }

    /// Records a request for `url`; fails on a repeat or past the cap.
    pub fn visit(&mut self, url: &Url) -> Result<(), GraphError> {
        self.visit_with(url, "")
    }

    /// Records a request for `url` with `state` besides the URL (a continuation token sent as
    /// a header: the same URL with another token is another page); fails on a repeat or past
    /// the cap.
    pub fn visit_with(&mut self, url: &Url, state: &str) -> Result<(), GraphError> {
        if self.seen.len() >= self.max_pages {
            return Err(GraphError::TooManyPages(self.max_pages));
        }
        if !self.seen.insert(format!("{} {state}", url.as_str())) {
            return Err(GraphError::BadPage(format!(
                "paging loop: page {} links back to a page already read ({})",
                self.seen.len(),
                url.path()
            )));
        }
        Ok(())
    }

    /// Checks a nextLink and returns it as a URL, otherwise unchanged.
    pub fn next_link(&self, link: &str) -> Result<Url, GraphError> {
        let url = Url::parse(link).map_err(|e| self.refuse(&format!("not a URL ({e})")))?;
        self.check(url)
    }

    /// Checks a next link that may be relative to the origin (Partner Center's `links.next`).
    pub fn next_relative(&self, link: &str) -> Result<Url, GraphError> {
        let url = self
            .origin
            .join(link)
            .map_err(|e| self.refuse(&format!("not a URL ({e})")))?;
        self.check(url)
    }

    fn refuse(&self, why: &str) -> GraphError {
        GraphError::BadPage(format!(
            "refusing {} after page {}: {why}",
            self.link,
            self.seen.len()
        ))
    }

    fn check(&self, url: Url) -> Result<Url, GraphError> {
        let refuse = |why: &str| self.refuse(why);
        if url.scheme() != self.origin.scheme() {
            return Err(refuse(&format!(
                "scheme {} is not the configured {}",
                url.scheme(),
                self.origin.scheme()
            )));
        }
        if url.host_str() != self.origin.host_str()
            || url.port_or_known_default() != self.origin.port_or_known_default()
        {
            return Err(refuse(&format!(
                "host {} is not the configured {} host {}",
                url.host_str().unwrap_or("(none)"),
                self.origin_key,
                self.origin.host_str().unwrap_or("(none)")
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("it carries user credentials"));
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new(&Url::parse("https://graph.microsoft.com").unwrap(), 3)
    }

    #[test]
    fn next_links_to_other_hosts_schemes_or_with_credentials_are_refused() {
        let g = guard();
        for bad in [
            "https://evil.example/beta/security/partner/securityAlerts?$skiptoken=x",
            "http://graph.microsoft.com/beta/security/partner/securityAlerts",
            "https://user:pass@graph.microsoft.com/beta/x",
            "https://graph.microsoft.com:8443/beta/x",
            "https://graph.microsoft.com.evil.example/beta/x",
            "/beta/relative",
        ] {
            assert!(g.next_link(bad).is_err(), "{bad} should be refused");
        }
        assert!(
            g.next_link("https://graph.microsoft.com:443/beta/x")
                .is_ok()
        );
    }

    #[test]
    fn next_links_keep_their_encoding() {
        let link = "https://graph.microsoft.com/beta/security/partner/securityAlerts?$skiptoken=a%2Bb+c%3D%3D";
        assert_eq!(guard().next_link(link).unwrap().as_str(), link);
        let long = format!("{link}{}", "x".repeat(8 * 1024));
        assert_eq!(guard().next_link(&long).unwrap().as_str(), long);
    }

    #[test]
    fn a_literal_apostrophe_is_the_one_character_the_url_standard_encodes() {
        // WHATWG URL parsing (which reqwest requires) percent-encodes `'` in the query of an
        // https URL; OData servers read `%27` and `'` alike. Everything else stays verbatim.
        let link =
            "https://graph.microsoft.com/beta/x?$filter=status%20eq%20'active'&$skiptoken=a%2Bb";
        assert_eq!(
            guard().next_link(link).unwrap().as_str(),
            "https://graph.microsoft.com/beta/x?$filter=status%20eq%20%27active%27&$skiptoken=a%2Bb"
        );
    }

    #[test]
    fn loops_and_the_page_cap_are_detected() {
        let mut g = guard();
        let a = Url::parse("https://graph.microsoft.com/a").unwrap();
        let b = Url::parse("https://graph.microsoft.com/b").unwrap();
        g.visit(&a).unwrap();
        g.visit(&b).unwrap();
        let err = g.visit(&a).unwrap_err().to_string();
        assert!(err.contains("paging loop"), "{err}");
        let mut g = guard();
        for p in ["a", "b", "c"] {
            g.visit(&Url::parse(&format!("https://graph.microsoft.com/{p}")).unwrap())
                .unwrap();
        }
        let err = g
            .visit(&Url::parse("https://graph.microsoft.com/d").unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_pages = 3"), "{err}");
    }
}
