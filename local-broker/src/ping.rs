//! PingSource: fires `dev.knative.sources.ping` on the cron schedule.

use std::time::Duration;

use chrono::{DateTime, Utc};
use cloudevents::{Event, EventBuilder, EventBuilderV10};

use crate::broker::Bus;
use crate::manifest::PingSource;

pub const PING_TYPE: &str = "dev.knative.sources.ping";

/// A PingSource schedule: a standard 5-field cron expression (or a nickname
/// such as `@hourly`), or `@every <duration>` (robfig/cron's descriptor,
/// which Knative's parser accepts too; tests use it to fire every second).
#[derive(Debug, Clone)]
pub enum Schedule {
    Cron(Box<croner::Cron>),
    Every(Duration),
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, String> {
        if let Some(every) = text.trim().strip_prefix("@every ") {
            let d = humantime::parse_duration(every.trim())
                .map_err(|e| format!("{text:?}: bad @every duration: {e}"))?;
            if d.is_zero() {
                return Err(format!("{text:?}: @every needs a positive duration"));
            }
            return Ok(Schedule::Every(d));
        }
        if text.split_whitespace().count() == 6 {
            return Err(format!(
                "{text:?}: six fields; PingSource takes standard 5-field cron (minute hour day month weekday)"
            ));
        }
        croner::parser::CronParser::new()
            .parse(text)
            .map(|c| Schedule::Cron(Box::new(c)))
            .map_err(|e| format!("{text:?} is not a cron expression: {e}"))
    }

    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron(c) => c.find_next_occurrence(&after, false).ok(),
            Schedule::Every(d) => chrono::Duration::from_std(*d).ok().map(|d| after + d),
        }
    }
}

/// The event a PingSource sends at `at`.
pub fn ping_event(source: &PingSource, at: DateTime<Utc>) -> Event {
    let mut builder = EventBuilderV10::new()
        .id(uuid::Uuid::new_v4().to_string())
        .ty(PING_TYPE)
        .source(format!(
            "/apis/v1/namespaces/{}/pingsources/{}",
            source.namespace, source.name
        ))
        .time(at);
    for (k, v) in &source.extensions {
        builder = builder.extension(k, v.clone());
    }
    if !source.data.is_empty() {
        let content_type = source
            .content_type
            .clone()
            .unwrap_or_else(|| "text/plain".into());
        builder = builder.data(content_type, source.data.clone());
    }
    builder
        .build()
        .expect("id, type, source and specversion are always set")
}

/// Runs one PingSource until the task is dropped.
pub async fn run(bus: Bus, source: PingSource) {
    let mut after = Utc::now();
    loop {
        let Some(next) = source.schedule.next_after(after) else {
            tracing::warn!(pingsource = %source.name, "schedule has no next occurrence; stopping");
            return;
        };
        let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::time::sleep(wait).await;
        tracing::debug!(pingsource = %source.name, "ping");
        bus.emit(&source.namespace, &source.sink, ping_event(&source, next))
            .await;
        after = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_minute_fires_at_the_next_minute() {
        let s = Schedule::parse("* * * * *").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 30).unwrap();
        assert_eq!(
            s.next_after(t),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap())
        );
        let on_the_minute = Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap();
        assert_eq!(
            s.next_after(on_the_minute),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 10, 2, 0).unwrap()),
            "strictly after"
        );
    }

    #[test]
    fn schedules_knative_accepts() {
        assert!(Schedule::parse("*/5 * * * *").is_ok());
        assert!(Schedule::parse("0 3 * * 1-5").is_ok());
        assert!(Schedule::parse("@hourly").is_ok());
        assert!(
            matches!(Schedule::parse("@every 10s"), Ok(Schedule::Every(d)) if d == Duration::from_secs(10))
        );
        assert!(Schedule::parse("@every 0s").is_err());
        assert!(Schedule::parse("61 * * * *").is_err());
        assert!(Schedule::parse("0 0 * * * *").is_err(), "seconds field");
    }
}
