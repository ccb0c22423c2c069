//! Trigger filters: `spec.filter.attributes` and `spec.filters` (the
//! Subscriptions API dialects exact, prefix, suffix, all, any, not).
//! CESQL is rejected at load time; data is never filtered on (as in Knative).

use std::collections::BTreeMap;

use cloudevents::{AttributesReader, Event};

use crate::manifest::RawFilter;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// The attribute exists and equals the value.
    Exact(String, String),
    Prefix(String, String),
    Suffix(String, String),
    /// Every filter matches (the empty list matches everything).
    All(Vec<Filter>),
    /// At least one filter matches.
    Any(Vec<Filter>),
    Not(Box<Filter>),
}

impl Filter {
    /// `spec.filter.attributes`: every listed attribute must equal its value;
    /// an empty value matches any value (Knative's "Any"), as long as the
    /// attribute is present.
    pub fn from_attributes(attributes: &BTreeMap<String, String>) -> Filter {
        Filter::All(
            attributes
                .iter()
                .map(|(k, v)| {
                    if v.is_empty() {
                        Filter::Prefix(k.clone(), String::new())
                    } else {
                        Filter::Exact(k.clone(), v.clone())
                    }
                })
                .collect(),
        )
    }

    /// `spec.filters`: a list, all of which must match.
    pub(crate) fn from_filters(filters: &[RawFilter]) -> Result<Filter, String> {
        filters
            .iter()
            .enumerate()
            .map(|(i, f)| Self::from_raw(f).map_err(|m| format!("[{i}]{m}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Filter::All)
    }

    fn from_raw(raw: &RawFilter) -> Result<Filter, String> {
        let set = [
            raw.exact.is_some(),
            raw.prefix.is_some(),
            raw.suffix.is_some(),
            raw.all.is_some(),
            raw.any.is_some(),
            raw.not.is_some(),
            raw.cesql.is_some(),
        ]
        .iter()
        .filter(|s| **s)
        .count();
        if set != 1 {
            return Err(format!(
                ": exactly one dialect (exact, prefix, suffix, all, any, not) per filter, found {set}"
            ));
        }
        let single = |dialect: &str,
                      map: &BTreeMap<String, String>|
         -> Result<(String, String), String> {
            let mut it = map.iter();
            match (it.next(), it.next()) {
                (Some((k, v)), None) => Ok((k.clone(), v.clone())),
                _ => Err(format!(
                    ".{dialect}: exactly one attribute per {dialect} filter (Knative rejects more)"
                )),
            }
        };
        if let Some(m) = &raw.exact {
            let (k, v) = single("exact", m)?;
            return Ok(Filter::Exact(k, v));
        }
        if let Some(m) = &raw.prefix {
            let (k, v) = single("prefix", m)?;
            return Ok(Filter::Prefix(k, v));
        }
        if let Some(m) = &raw.suffix {
            let (k, v) = single("suffix", m)?;
            return Ok(Filter::Suffix(k, v));
        }
        if let Some(list) = &raw.all {
            return Self::nested("all", list).map(Filter::All);
        }
        if let Some(list) = &raw.any {
            return Self::nested("any", list).map(Filter::Any);
        }
        if let Some(inner) = &raw.not {
            return Self::from_raw(inner)
                .map(|f| Filter::Not(Box::new(f)))
                .map_err(|m| format!(".not{m}"));
        }
        Err(".cesql: CESQL filters are not supported by the local broker; use exact, prefix, suffix, all, any or not".into())
    }

    fn nested(dialect: &str, list: &[RawFilter]) -> Result<Vec<Filter>, String> {
        list.iter()
            .enumerate()
            .map(|(i, f)| Self::from_raw(f).map_err(|m| format!(".{dialect}[{i}]{m}")))
            .collect()
    }

    pub fn matches(&self, event: &Event) -> bool {
        match self {
            Filter::Exact(k, v) => attribute(event, k).is_some_and(|a| a == *v),
            Filter::Prefix(k, v) => attribute(event, k).is_some_and(|a| a.starts_with(v.as_str())),
            Filter::Suffix(k, v) => attribute(event, k).is_some_and(|a| a.ends_with(v.as_str())),
            Filter::All(fs) => fs.iter().all(|f| f.matches(event)),
            Filter::Any(fs) => fs.iter().any(|f| f.matches(event)),
            Filter::Not(f) => !f.matches(event),
        }
    }

    /// The exact `type` values this filter can match, if it pins the type
    /// (used by the manifest coverage test and the startup summary).
    pub fn exact_types(&self) -> Option<Vec<String>> {
        match self {
            Filter::Exact(k, v) if k == "type" => Some(vec![v.clone()]),
            Filter::All(fs) => fs.iter().find_map(|f| f.exact_types()),
            Filter::Any(fs) => fs
                .iter()
                .map(|f| f.exact_types())
                .collect::<Option<Vec<Vec<String>>>>()
                .map(|v| v.concat()),
            _ => None,
        }
    }
}

/// A context attribute or extension by its CloudEvents name, as a string.
pub fn attribute(event: &Event, name: &str) -> Option<String> {
    match name {
        "specversion" => Some(event.specversion().to_string()),
        "id" => Some(event.id().to_string()),
        "type" => Some(event.ty().to_string()),
        "source" => Some(event.source().to_string()),
        "subject" => event.subject().map(str::to_string),
        "datacontenttype" => event.datacontenttype().map(str::to_string),
        "dataschema" => event.dataschema().map(|u| u.to_string()),
        "time" => event.time().map(|t| t.to_rfc3339()),
        other => event.extension(other).map(|v| v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudevents::{EventBuilder, EventBuilderV10};

    fn event() -> Event {
        EventBuilderV10::new()
            .id("1")
            .source("/storefleet/create-store")
            .ty("io.storefleet.store.requested")
            .subject("abcd1234")
            .extension("kind", "Pod")
            .build()
            .unwrap()
    }

    #[test]
    fn attributes_filter_is_exact_and_empty_means_any() {
        let f = |pairs: &[(&str, &str)]| {
            Filter::from_attributes(
                &pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        assert!(f(&[("type", "io.storefleet.store.requested")]).matches(&event()));
        assert!(!f(&[("type", "io.storefleet.store")]).matches(&event()));
        assert!(f(&[("kind", "Pod"), ("subject", "abcd1234")]).matches(&event()));
        assert!(f(&[("kind", "")]).matches(&event()));
        assert!(!f(&[("missing", "")]).matches(&event()));
        assert!(f(&[]).matches(&event()), "no filter: everything");
    }

    #[test]
    fn dialects() {
        let e = event();
        let x = |k: &str, v: &str| Filter::Exact(k.into(), v.into());
        assert!(Filter::Prefix("type".into(), "io.storefleet.".into()).matches(&e));
        assert!(Filter::Suffix("source".into(), "/create-store".into()).matches(&e));
        assert!(!Filter::Suffix("missing".into(), "".into()).matches(&e));
        assert!(Filter::Any(vec![x("type", "no"), x("kind", "Pod")]).matches(&e));
        assert!(!Filter::Any(vec![]).matches(&e));
        assert!(Filter::Not(Box::new(x("type", "no"))).matches(&e));
        assert!(
            !Filter::All(vec![
                x("type", "io.storefleet.store.requested"),
                x("kind", "Deployment")
            ])
            .matches(&e)
        );
    }

    #[test]
    fn exact_types_reports_pinned_types() {
        let mut attrs = BTreeMap::new();
        attrs.insert("type".to_string(), "a".to_string());
        assert_eq!(
            Filter::from_attributes(&attrs).exact_types(),
            Some(vec!["a".to_string()])
        );
        assert_eq!(
            Filter::Prefix("type".into(), "a".into()).exact_types(),
            None
        );
    }
}
