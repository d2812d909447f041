//! The long free text of an alert — description, affected resources, additional details — kept
//! as one encoded byte string per alert from the moment the page is parsed: one allocation per
//! alert instead of one per string, list and map entry, cheap to move to the spill file and
//! read back without copying ([`DetailsRef`] borrows from the bytes).
//!
//! Encoding: strings as a `u32` length (little-endian) and UTF-8 bytes; an optional string as
//! a `0` (absent) or `1` (present) byte first; lists and maps as a `u32` count, then their
//! items. Additional details are stored sorted by key, each key once.

use std::collections::BTreeMap;

/// The details of an alert, owned (for building alerts in tests and tools).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    pub description: Option<String>,
    pub affected_resources: Vec<AffectedResource>,
    pub additional_details: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AffectedResource {
    pub resource_id: Option<String>,
    pub resource_type: Option<String>,
}

/// The details of an alert, borrowed from their encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetailsRef<'a> {
    pub description: Option<&'a str>,
    resources: &'a [u8],
    resource_count: usize,
    entries: &'a [u8],
    entry_count: usize,
}

/// One affected resource, borrowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceRef<'a> {
    pub resource_id: Option<&'a str>,
    pub resource_type: Option<&'a str>,
}

impl Details {
    /// The encoding of these details.
    pub fn encode(&self) -> Box<[u8]> {
        let resources: Vec<(Option<&str>, Option<&str>)> = self
            .affected_resources
            .iter()
            .map(|r| (r.resource_id.as_deref(), r.resource_type.as_deref()))
            .collect();
        let entries: Vec<(&str, &str)> = self
            .additional_details
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        encode(self.description.as_deref(), &resources, &entries)
    }
}

/// Encodes details given as parts; `entries` must be sorted by key with each key once (see
/// [`sort_entries`]).
pub fn encode(
    description: Option<&str>,
    resources: &[(Option<&str>, Option<&str>)],
    entries: &[(&str, &str)],
) -> Box<[u8]> {
    let opt_len = |s: Option<&str>| 1 + s.map_or(0, |s| 4 + s.len());
    let size = opt_len(description)
        + 4
        + resources
            .iter()
            .map(|(id, ty)| opt_len(*id) + opt_len(*ty))
            .sum::<usize>()
        + 4
        + entries
            .iter()
            .map(|(k, v)| 8 + k.len() + v.len())
            .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    put_opt(&mut out, description);
    put_count(&mut out, resources.len());
    for (id, ty) in resources {
        put_opt(&mut out, *id);
        put_opt(&mut out, *ty);
    }
    put_count(&mut out, entries.len());
    for (k, v) in entries {
        put_str(&mut out, k);
        put_str(&mut out, v);
    }
    out.into_boxed_slice()
}

/// Sorts additional details by key and keeps, of each key given more than once, the value
/// given last (as a JSON object read into a map does).
pub fn sort_entries<K: AsRef<str>, V>(entries: &mut Vec<(K, V)>) {
    entries.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    // The sort is stable: of equal keys the one given last is last. Reversed, it is first,
    // and `dedup_by` keeps the first of each run.
    entries.reverse();
    entries.dedup_by(|later, earlier| later.0.as_ref() == earlier.0.as_ref());
    entries.reverse();
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

fn put_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

#[derive(Clone, Copy)]
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u32(&mut self) -> Option<usize> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        usize::try_from(u32::from_le_bytes(*head)).ok()
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = self.u32()?;
        if len > self.0.len() {
            return None;
        }
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        std::str::from_utf8(text).ok()
    }

    #[expect(
        clippy::option_option,
        reason = "the outer None: cannot be read; the inner: an absent string"
    )]
    fn opt(&mut self) -> Option<Option<&'a str>> {
        let (flag, rest) = self.0.split_first()?;
        self.0 = rest;
        match flag {
            0 => Some(None),
            _ => self.str().map(Some),
        }
    }
}

impl<'a> DetailsRef<'a> {
    /// Reads an encoding, checking all of it; `None` when it is not one.
    pub fn decode(bytes: &'a [u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        let description = r.opt()?;
        let resource_count = r.u32()?;
        let resources = r.0;
        for _ in 0..resource_count {
            r.opt()?;
            r.opt()?;
        }
        let resources = &resources[..resources.len() - r.0.len()];
        let entry_count = r.u32()?;
        let entries = r.0;
        for _ in 0..entry_count {
            r.str()?;
            r.str()?;
        }
        r.0.is_empty().then_some(Self {
            description,
            resources,
            resource_count,
            entries,
            entry_count,
        })
    }

    /// The affected resources, in the order the service listed them.
    pub fn affected_resources(&self) -> impl ExactSizeIterator<Item = ResourceRef<'a>> + 'a {
        let mut r = Reader(self.resources);
        // decode() checked every item, so the reads below succeed.
        (0..self.resource_count).map(move |_| ResourceRef {
            resource_id: r.opt().flatten(),
            resource_type: r.opt().flatten(),
        })
    }

    /// The additional details, sorted by key.
    pub fn additional_details(&self) -> impl ExactSizeIterator<Item = (&'a str, &'a str)> + 'a {
        let mut r = Reader(self.entries);
        (0..self.entry_count).map(move |_| (r.str().unwrap_or(""), r.str().unwrap_or("")))
    }

    /// An owned copy.
    pub fn to_details(&self) -> Details {
        Details {
            description: self.description.map(str::to_owned),
            affected_resources: self
                .affected_resources()
                .map(|r| AffectedResource {
                    resource_id: r.resource_id.map(str::to_owned),
                    resource_type: r.resource_type.map(str::to_owned),
                })
                .collect(),
            additional_details: self
                .additional_details()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_details() -> impl Strategy<Value = Details> {
        let text = || proptest::option::of(".{0,12}");
        (
            text(),
            proptest::collection::vec((text(), text()), 0..4),
            proptest::collection::btree_map(".{0,6}", ".{0,10}", 0..4),
        )
            .prop_map(|(description, resources, additional_details)| Details {
                description,
                affected_resources: resources
                    .into_iter()
                    .map(|(resource_id, resource_type)| AffectedResource {
                        resource_id,
                        resource_type,
                    })
                    .collect(),
                additional_details,
            })
    }

    proptest! {
        #[test]
        fn details_read_back_as_they_were(details in any_details()) {
            let bytes = details.encode();
            let read = DetailsRef::decode(&bytes).expect("an encoding reads back");
            prop_assert_eq!(read.to_details(), details);
        }

        #[test]
        fn a_cut_or_lengthened_encoding_is_refused(details in any_details(), cut in 1usize..8) {
            let bytes = details.encode();
            let short = &bytes[..bytes.len().saturating_sub(cut)];
            prop_assert!(DetailsRef::decode(short).is_none());
            let mut long = bytes.to_vec();
            long.push(0);
            prop_assert!(DetailsRef::decode(&long).is_none());
        }
    }

    #[test]
    fn of_repeated_keys_the_last_value_stays() {
        let mut entries = vec![("b", 1), ("a", 2), ("b", 3), ("a", 4), ("c", 5)];
        sort_entries(&mut entries);
        assert_eq!(entries, [("a", 4), ("b", 3), ("c", 5)]);
    }
}
