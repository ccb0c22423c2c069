//! A test's copy of `knative/`: what production applies, with the test's
//! edits, for the local broker to read.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// Copies `knative/*.yaml` into `into/knative`, replacing each `(from, to)`
/// text; every edit must change something (an edit that no longer matches
/// the manifests is a test that no longer tests what it says).
pub fn copy(into: &Path, edits: &[(&str, &str)]) -> anyhow::Result<PathBuf> {
    let dir = into.join("knative");
    std::fs::create_dir_all(&dir)?;
    let mut used = vec![false; edits.len()];
    for entry in std::fs::read_dir(crate::repo_root().join("knative"))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let mut text =
            std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        for ((from, to), used) in edits.iter().zip(used.iter_mut()) {
            if text.contains(from) {
                *used = true;
                text = text.replace(from, to);
            }
        }
        std::fs::write(dir.join(path.file_name().context("a file")?), text)?;
    }
    if let Some(((from, _), _)) = edits.iter().zip(&used).find(|(_, used)| !**used) {
        bail!("no manifest in knative/ contains {from:?}: the test's edit changes nothing");
    }
    Ok(dir)
}

/// The edit that runs every PingSource on `schedule` instead of
/// production's (tests run the same sweep more often so they end sooner).
pub fn ping_schedule(schedule: &str) -> anyhow::Result<(String, String)> {
    let manifest = std::fs::read_to_string(crate::repo_root().join("knative/pingsource.yaml"))
        .context("read knative/pingsource.yaml")?;
    let line = manifest
        .lines()
        .find(|line| line.trim_start().starts_with("schedule:"))
        .context("knative/pingsource.yaml has no schedule to run faster")?;
    let indent = &line[..line.len() - line.trim_start().len()];
    Ok((line.to_owned(), format!("{indent}schedule: \"{schedule}\"")))
}
