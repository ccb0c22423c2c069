//! The cross-checks of a whole set of manifests: unique names, and every
//! reference pointing at an object the manifests define.

use super::kinds::manifest_error;
use super::{Destination, Manifests, Origin};
use crate::Result;

impl Manifests {
    /// Every reference must point at an object defined in the manifests, and
    /// names must be unique, so a typo fails at load time instead of as a
    /// delivery that never happens.
    pub fn check_references(&self) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        let all_origins = self
            .brokers
            .iter()
            .map(|b| (&b.origin, &b.namespace))
            .chain(self.triggers.iter().map(|t| (&t.origin, &t.namespace)))
            .chain(
                self.api_server_sources
                    .iter()
                    .map(|s| (&s.origin, &s.namespace)),
            )
            .chain(self.ping_sources.iter().map(|s| (&s.origin, &s.namespace)))
            .chain(self.sink_bindings.iter().map(|s| (&s.origin, &s.namespace)))
            .chain(self.services.iter().map(|s| (&s.origin, &s.namespace)));
        for (origin, namespace) in all_origins {
            if !seen.insert((origin.kind.clone(), namespace.clone(), origin.name.clone())) {
                return Err(manifest_error(
                    origin,
                    format!(
                        "a second {} named {:?} in namespace {namespace}",
                        origin.kind, origin.name
                    ),
                ));
            }
        }
        for t in &self.triggers {
            if self.broker(&t.namespace, &t.broker).is_none() {
                return Err(manifest_error(
                    &t.origin,
                    format!(
                        "spec.broker: no Broker {:?} in namespace {}",
                        t.broker, t.namespace
                    ),
                ));
            }
            self.check_destination_target(
                &t.origin,
                "spec.subscriber",
                &t.namespace,
                &t.subscriber,
            )?;
            if let Some(d) = &t.delivery.dead_letter_sink {
                self.check_destination_target(
                    &t.origin,
                    "spec.delivery.deadLetterSink",
                    &t.namespace,
                    d,
                )?;
            }
        }
        for s in &self.api_server_sources {
            self.check_destination_target(&s.origin, "spec.sink", &s.namespace, &s.sink)?;
        }
        for s in &self.ping_sources {
            self.check_destination_target(&s.origin, "spec.sink", &s.namespace, &s.sink)?;
        }
        for s in &self.sink_bindings {
            self.check_destination_target(&s.origin, "spec.sink", &s.namespace, &s.sink)?;
            if self.service(&s.namespace, &s.subject_service).is_none() {
                return Err(manifest_error(
                    &s.origin,
                    format!(
                        "spec.subject: no Service {:?} in namespace {}",
                        s.subject_service, s.namespace
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_destination_target(
        &self,
        origin: &Origin,
        field: &str,
        namespace: &str,
        destination: &Destination,
    ) -> Result<()> {
        let Some(r) = &destination.reference else {
            return Ok(());
        };
        let ns = r.namespace.as_deref().unwrap_or(namespace);
        let found = match (r.api_version.as_str(), r.kind.as_str()) {
            ("eventing.knative.dev/v1", "Broker") => self.broker(ns, &r.name).is_some(),
            ("serving.knative.dev/v1", "Service") => self.service(ns, &r.name).is_some(),
            _ => unreachable!("check_destination accepted only Brokers and Services"),
        };
        if found {
            Ok(())
        } else {
            Err(manifest_error(
                origin,
                format!(
                    "{field}.ref: no {} {:?} in namespace {ns} in these manifests",
                    r.kind, r.name
                ),
            ))
        }
    }
}
