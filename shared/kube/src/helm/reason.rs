//! Turning helm's stderr into one line a person understands.

/// The longest reason kept: enough for any helm error, short enough for the
/// activity log and a problem+json `detail`.
const MAX_REASON_CHARS: usize = 400;

/// The first meaningful line of helm's stderr.
///
/// Helm prints warnings (`WARNING: ...`, `level=WARN ...` from Helm 4's slog)
/// before the error; the error itself is the line starting with `Error:`
/// (Helm 3 and 4) or an slog `level=ERROR` record. Storefleet never passes a
/// secret to helm (`existingSecret` names the Secret; values files hold no
/// secrets), so the line is safe to show.
pub fn human_reason(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let error_line = lines.iter().find_map(|line| {
        line.strip_prefix("Error:")
            .or_else(|| line.strip_prefix("error:"))
            .map(str::trim)
            .map(str::to_owned)
            .or_else(|| slog_error_message(line))
    });
    let reason = error_line
        .or_else(|| {
            lines
                .iter()
                .find(|line| !is_noise(line))
                .map(|line| (*line).to_owned())
        })
        .unwrap_or_else(|| "helm failed without a message".to_owned());
    truncate(&reason)
}

/// `time=... level=ERROR msg="..."` -> the message.
fn slog_error_message(line: &str) -> Option<String> {
    if !line.contains("level=ERROR") {
        return None;
    }
    let msg = line.split_once("msg=")?.1;
    let msg = match msg.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"').map_or(quoted, |(m, _)| m),
        None => msg.split_whitespace().next().unwrap_or(msg),
    };
    Some(msg.to_owned())
}

fn is_noise(line: &str) -> bool {
    line.starts_with("WARNING:")
        || line.contains("level=WARN")
        || line.contains("level=INFO")
        || line.contains("level=DEBUG")
}

fn truncate(reason: &str) -> String {
    if reason.chars().count() <= MAX_REASON_CHARS {
        reason.to_owned()
    } else {
        let mut cut: String = reason.chars().take(MAX_REASON_CHARS).collect();
        cut.push('…');
        cut
    }
}

/// helm's error when the last revision of a release is `pending-*`.
pub(crate) fn is_operation_in_progress(stderr: &str) -> bool {
    stderr.contains("another operation (install/upgrade/rollback) is in progress")
}

/// helm's error for a release that does not exist.
pub(crate) fn is_release_not_found(stderr: &str) -> bool {
    stderr.contains("release: not found") || stderr.contains("Release not loaded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_error_line_and_skips_warnings() {
        let stderr = "WARNING: Kubernetes configuration file is group-readable. This is insecure.\n\
                      Error: INSTALLATION FAILED: 1 error occurred:\n\t* namespaces \"store-abcd1234\" not found\n";
        assert_eq!(
            human_reason(stderr),
            "INSTALLATION FAILED: 1 error occurred:"
        );
    }

    #[test]
    fn understands_slog_error_records() {
        let stderr = "time=2026-11-22T10:00:00Z level=WARN msg=\"something minor\"\n\
                      time=2026-11-22T10:00:00Z level=ERROR msg=\"chart requires kubeVersion: >=1.30\"\n";
        assert_eq!(human_reason(stderr), "chart requires kubeVersion: >=1.30");
    }

    #[test]
    fn falls_back_to_the_first_meaningful_line_and_never_returns_empty() {
        assert_eq!(
            human_reason("\n  \nWARNING: x\nsegfault somewhere\n"),
            "segfault somewhere"
        );
        assert_eq!(human_reason(""), "helm failed without a message");
    }

    #[test]
    fn long_reasons_are_cut() {
        let reason = human_reason(&format!("Error: {}", "x".repeat(1000)));
        assert_eq!(reason.chars().count(), MAX_REASON_CHARS + 1);
        assert!(reason.ends_with('…'));
    }
}
