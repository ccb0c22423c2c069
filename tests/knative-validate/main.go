// Command knative-validate runs Knative's own admission logic over manifests:
// the defaulting and validation that Knative Serving's and Eventing's webhooks
// apply to every Service, Broker, Trigger, ApiServerSource, PingSource and
// SinkBinding, with the feature and defaults ConfigMaps of a fresh install of
// the pinned release (read from the release's own module) plus the changes
// `make up` makes to them.
//
// The test cluster has Knative's CRDs but runs no Knative webhook, so a
// server-side dry run there checks only the CRDs' OpenAPI schemas; this adds
// what the webhooks would refuse on a real cluster: feature-gated PodSpec
// fields, annotation values, delivery options, source settings.
//
//	knative-validate -serving-configmaps DIR -eventing-configmaps DIR \
//	  [-serving-feature key=value]... FILE...
//
// Exits 1 with every refusal listed (file, kind/name, the webhook's message).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	eventingconfig "knative.dev/eventing/pkg/apis/config"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	eventingv1alpha1 "knative.dev/eventing/pkg/apis/eventing/v1alpha1"
	"knative.dev/eventing/pkg/apis/feature"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
	servingconfig "knative.dev/serving/pkg/apis/config"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	autoscalerconfig "knative.dev/serving/pkg/autoscaler/config"
	"sigs.k8s.io/yaml"
)

// admitted is what both webhooks call on a resource: defaults, then validation.
type admitted interface {
	apis.Defaultable
	apis.Validatable
}

// kinds maps apiVersion/kind to a new typed object; anything else in the
// given files is an error, so a new kind is never skipped silently.
var kinds = map[string]func() admitted{
	"serving.knative.dev/v1/Service":            func() admitted { return &servingv1.Service{} },
	"eventing.knative.dev/v1/Broker":            func() admitted { return &eventingv1.Broker{} },
	"eventing.knative.dev/v1/Trigger":           func() admitted { return &eventingv1.Trigger{} },
	"eventing.knative.dev/v1alpha1/EventPolicy": func() admitted { return &eventingv1alpha1.EventPolicy{} },
	"sources.knative.dev/v1/ApiServerSource":    func() admitted { return &sourcesv1.ApiServerSource{} },
	"sources.knative.dev/v1/PingSource":         func() admitted { return &sourcesv1.PingSource{} },
	"sources.knative.dev/v1/SinkBinding":        func() admitted { return &sourcesv1.SinkBinding{} },
}

type settings []string

func (s *settings) String() string     { return strings.Join(*s, ",") }
func (s *settings) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	servingDir := flag.String("serving-configmaps", "", "knative.dev/serving's config/core/configmaps folder")
	eventingDir := flag.String("eventing-configmaps", "", "knative.dev/eventing's config/core/configmaps folder")
	var servingFeatures, eventingFeatures settings
	flag.Var(&servingFeatures, "serving-feature", "key=value set in knative-serving/config-features (repeatable)")
	flag.Var(&eventingFeatures, "eventing-feature", "key=value set in knative-eventing/config-features (repeatable)")
	flag.Parse()
	if *servingDir == "" || *eventingDir == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: knative-validate -serving-configmaps DIR -eventing-configmaps DIR [-serving-feature k=v]... FILE...")
		os.Exit(2)
	}
	ctx, err := admissionContext(*servingDir, *eventingDir, servingFeatures, eventingFeatures)
	if err != nil {
		fmt.Fprintln(os.Stderr, "knative-validate:", err)
		os.Exit(2)
	}

	checked, refused := 0, 0
	for _, path := range flag.Args() {
		results, err := admitFile(ctx, path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "knative-validate: %s: %v\n", path, err)
			os.Exit(2)
		}
		for _, r := range results {
			checked++
			if r.err != nil {
				refused++
				fmt.Printf("REFUSED %s: %s: %v\n", path, r.name, r.err)
			} else {
				fmt.Printf("ok      %s: %s\n", path, r.name)
			}
			if r.warnings != nil {
				fmt.Printf("WARNING %s: %s: %v\n", path, r.name, r.warnings)
			}
		}
	}
	fmt.Printf("%d resources, %d refused by Knative's admission\n", checked, refused)
	if refused > 0 {
		os.Exit(1)
	}
}

// admissionContext is the context the webhooks validate in: the release's
// ConfigMaps (with the given feature changes) and a create operation.
func admissionContext(servingDir, eventingDir string, servingFeatures, eventingFeatures settings) (context.Context, error) {
	features, err := configMap(filepath.Join(servingDir, "features.yaml"), servingFeatures)
	if err != nil {
		return nil, err
	}
	defaults, err := configMap(filepath.Join(servingDir, "defaults.yaml"), nil)
	if err != nil {
		return nil, err
	}
	autoscaler, err := configMap(filepath.Join(servingDir, "autoscaler.yaml"), nil)
	if err != nil {
		return nil, err
	}
	eventingFlags, err := configMap(filepath.Join(eventingDir, "features.yaml"), eventingFeatures)
	if err != nil {
		return nil, err
	}
	brokerDefaults, err := configMap(filepath.Join(eventingDir, "default-broker.yaml"), nil)
	if err != nil {
		return nil, err
	}

	cfg := &servingconfig.Config{}
	if cfg.Features, err = servingconfig.NewFeaturesConfigFromConfigMap(features); err != nil {
		return nil, fmt.Errorf("serving config-features: %w", err)
	}
	if cfg.Defaults, err = servingconfig.NewDefaultsConfigFromConfigMap(defaults); err != nil {
		return nil, fmt.Errorf("serving config-defaults: %w", err)
	}
	if cfg.Autoscaler, err = autoscalerconfig.NewConfigFromConfigMap(autoscaler); err != nil {
		return nil, fmt.Errorf("serving config-autoscaler: %w", err)
	}
	flags, err := feature.NewFlagsConfigFromConfigMap(eventingFlags)
	if err != nil {
		return nil, fmt.Errorf("eventing config-features: %w", err)
	}
	brokers, err := eventingconfig.NewDefaultsConfigFromConfigMap(brokerDefaults)
	if err != nil {
		return nil, fmt.Errorf("eventing config-br-defaults: %w", err)
	}

	ctx := servingconfig.ToContext(context.Background(), cfg)
	ctx = feature.ToContext(ctx, flags)
	ctx = eventingconfig.ToContext(ctx, &eventingconfig.Config{Defaults: brokers})
	return apis.WithinCreate(ctx), nil
}

// configMap reads a ConfigMap manifest and applies key=value changes to it.
func configMap(path string, changes settings) (*corev1.ConfigMap, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.Unmarshal(raw, cm); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	for _, change := range changes {
		key, value, ok := strings.Cut(change, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not key=value", change)
		}
		cm.Data[key] = value
	}
	return cm, nil
}

type result struct {
	name string
	// err: what the webhook refuses the resource for (nil: admitted).
	err error
	// warnings: what it admits but warns about (kubectl prints them).
	warnings error
}

// admitFile defaults and validates every document of one YAML file.
func admitFile(ctx context.Context, path string) ([]result, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	reader := utilyaml.NewYAMLReader(bufioReader(raw))
	var results []result
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return results, nil
		}
		if err != nil {
			return nil, err
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, err
		}
		if head.Kind == "" {
			continue // an empty document (comments only)
		}
		name := head.Kind + "/" + head.Metadata.Name
		newObject, known := kinds[head.APIVersion+"/"+head.Kind]
		if !known {
			group, _, _ := strings.Cut(head.APIVersion, "/")
			if strings.HasSuffix(group, ".knative.dev") {
				return nil, fmt.Errorf("%s (%s): a Knative kind this check does not know; add it to kinds", name, head.APIVersion)
			}
			continue // Kubernetes' own kinds: the API server's dry run checks those
		}
		obj := newObject()
		// Strict: a field Knative's types do not have is a mistake the API
		// server would silently prune.
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			results = append(results, result{name: name, err: err})
			continue
		}
		obj.SetDefaults(ctx)
		r := result{name: name}
		// The webhook refuses only for error-level findings; warning-level
		// ones are returned to the client as warnings.
		if fieldErr := obj.Validate(ctx); fieldErr != nil {
			if errs := fieldErr.Filter(apis.ErrorLevel); errs != nil {
				r.err = errs
			}
			if warnings := fieldErr.Filter(apis.WarningLevel); warnings != nil {
				r.warnings = warnings
			}
		}
		results = append(results, r)
	}
}

func bufioReader(raw []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(raw)) }
