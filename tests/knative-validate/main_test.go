package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// moduleConfigMaps is the config/core/configmaps folder of a Knative module,
// at the version go.mod pins.
func moduleConfigMaps(t *testing.T, module string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", module, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "core", "configmaps")
}

// installContext is the admission context of `make up`'s Knative: the
// release's ConfigMaps plus the feature changes scripts/up makes, and any
// further serving feature changes given.
func installContext(t *testing.T, servingFeatures ...string) context.Context {
	t.Helper()
	ctx, err := admissionContext(
		moduleConfigMaps(t, "knative.dev/serving"),
		moduleConfigMaps(t, "knative.dev/eventing"),
		append(settings{"kubernetes.podspec-volumes-emptydir=enabled"}, servingFeatures...),
		// scripts/up turns on authentication-oidc (knative/eventpolicy.yaml needs it)
		settings{"authentication-oidc=enabled"},
	)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

func knativeManifests(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../knative/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in knative/ (%v)", err)
	}
	return files
}

// Every Knative resource Storefleet ships is admitted by Knative's webhooks,
// without a warning.
func TestKnativeManifestsAreAdmitted(t *testing.T) {
	ctx := installContext(t)
	seen := map[string]bool{}
	for _, path := range knativeManifests(t) {
		results, err := admitFile(ctx, path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, r := range results {
			seen[strings.SplitN(r.name, "/", 2)[0]] = true
			if r.err != nil {
				t.Errorf("%s: %s refused: %v", path, r.name, r.err)
			} else if r.warnings != nil {
				t.Errorf("%s: %s admitted with warnings: %v", path, r.name, r.warnings)
			} else {
				t.Logf("admitted %s: %s", path, r.name)
			}
		}
	}
	// Guards the check itself: every kind the architecture uses was looked at.
	for _, kind := range []string{"Service", "Broker", "Trigger", "ApiServerSource", "PingSource", "SinkBinding"} {
		if !seen[kind] {
			t.Errorf("no %s found in knative/: the check looked at nothing of that kind", kind)
		}
	}
}

// Each fixture under testdata/refused is a mistake the webhooks refuse; its
// first line says which words the refusal must contain.
func TestMistakesAreRefused(t *testing.T) {
	ctx := installContext(t)
	files, _ := filepath.Glob("testdata/refused/*.yaml")
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/refused")
	}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(raw), "\n")
		want, ok := strings.CutPrefix(first, "# refused: ")
		if !ok {
			t.Fatalf("%s: the first line must be '# refused: <words of the refusal>'", path)
		}
		results, err := admitFile(ctx, path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(results) != 1 || results[0].err == nil {
			t.Errorf("%s: admitted, want refused with %q", path, want)
			continue
		}
		if !strings.Contains(results[0].err.Error(), want) {
			t.Errorf("%s: refused with %q, want it to mention %q", path, results[0].err, want)
		}
	}
}

// The functions' /tmp is an emptyDir, which Knative gates behind a feature
// flag: with it disabled the Services are refused, so the check really
// depends on the install's ConfigMaps (and `make up` must keep it enabled).
func TestEmptyDirNeedsTheFeatureFlag(t *testing.T) {
	ctx := installContext(t, "kubernetes.podspec-volumes-emptydir=disabled")
	results, err := admitFile(ctx, "../../knative/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, r := range results {
		if r.err != nil && strings.Contains(r.err.Error(), "emptyDir") {
			refused++
		}
	}
	if refused == 0 {
		t.Errorf("no Service refused for its emptyDir with the feature disabled: %+v", results)
	}
}

// The Knative that `make up` installs (scripts/up) and the one the docs tell
// production to install are the release whose Go modules this check and the
// test cluster's CRDs use: release 1.N is module v0.(N+27).
func TestInstalledReleaseIsTheCheckedOne(t *testing.T) {
	read := func(path string) string {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	minor := func(text, pattern, what string) int {
		m := regexp.MustCompile(pattern).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %s (%s)", what, pattern)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	module := minor(read("go.mod"), `knative\.dev/serving v0\.(\d+)\.`, "knative.dev/serving in go.mod")
	if eventing := minor(read("go.mod"), `knative\.dev/eventing v0\.(\d+)\.`, "knative.dev/eventing in go.mod"); eventing != module {
		t.Errorf("go.mod: knative.dev/eventing v0.%d, serving v0.%d: keep them on one release", eventing, module)
	}
	versions := read("../../scripts/tool-versions.env")
	for _, key := range []string{"KNATIVE_SERVING_VERSION", "KNATIVE_EVENTING_VERSION"} {
		if got := minor(versions, key+`=v0\.(\d+)\.`, key); got != module {
			t.Errorf("scripts/tool-versions.env %s is v0.%d, go.mod has v0.%d", key, got, module)
		}
	}
	for path, pattern := range map[string]string{
		"../../scripts/up":         `KNATIVE_VERSION=knative-v1\.(\d+)\.`,
		"../../docs/production.md": `V=knative-v1\.(\d+)\.`,
	} {
		if release := minor(read(path), pattern, "the Knative release in "+path); release+27 != module {
			t.Errorf("%s installs Knative 1.%d (module v0.%d), but the checks use v0.%d", path, release, release+27, module)
		}
	}
}
