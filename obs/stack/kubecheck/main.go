// kubecheck checks Kubernetes objects as the cluster would take them, without a cluster.
//
// Usage: kubecheck [FILE...]   (no FILE, or "-": standard input; multi-document YAML)
//
// Every object, keyed on apiVersion and kind, is decoded strictly into the upstream Go type (an unknown or
// duplicate field, or a value of the wrong type, is a problem), and a custom resource is then validated against
// its CRD schema by the apiserver's own code (k8s.io/apiextensions-apiserver: pruning of unknown fields, schema
// defaults, OpenAPI and CEL validation, metadata). An OpenTelemetryCollector also goes through the operator's
// own checks that need no cluster (the ports it derives from spec.config, its defaults, null objects).
//
// Output: one line per problem, FILE:DOC#N KIND/NAME: PATH: WHAT, every problem at once, where N counts the
// documents holding an object. Exit 0 when there is none, 1 when there are, 2 when a file cannot be read.
package main

import (
	"bufio"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"strings"

	otelv1alpha1 "github.com/open-telemetry/opentelemetry-operator/apis/v1alpha1"
	otelv1beta1 "github.com/open-telemetry/opentelemetry-operator/apis/v1beta1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	serializerjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The CRDs, put here by the build: the OpenTelemetry Operator's from its module, prometheus-operator's
// generated from its types by controller-gen (obs/stack/build.py).
//
//go:embed crds/*.yaml
var crds embed.FS

// kind is one apiVersion+kind kubecheck knows; plural names its CRD (crds/GROUP_PLURAL.yaml), "" for core kinds.
type kind struct {
	gvk    schema.GroupVersionKind
	plural string
}

var kinds = []kind{
	{monitoringv1.SchemeGroupVersion.WithKind("PrometheusRule"), "prometheusrules"},
	{monitoringv1.SchemeGroupVersion.WithKind("ServiceMonitor"), "servicemonitors"},
	{monitoringv1.SchemeGroupVersion.WithKind("PodMonitor"), "podmonitors"},
	{monitoringv1.SchemeGroupVersion.WithKind("Prometheus"), "prometheuses"},
	{monitoringv1alpha1.SchemeGroupVersion.WithKind("AlertmanagerConfig"), "alertmanagerconfigs"},
	{monitoringv1alpha1.SchemeGroupVersion.WithKind("ScrapeConfig"), "scrapeconfigs"},
	{otelv1beta1.GroupVersion.WithKind("OpenTelemetryCollector"), "opentelemetrycollectors"},
	{otelv1alpha1.GroupVersion.WithKind("Instrumentation"), "instrumentations"},
	{corev1.SchemeGroupVersion.WithKind("ConfigMap"), ""},
	{corev1.SchemeGroupVersion.WithKind("Secret"), ""},
	{corev1.SchemeGroupVersion.WithKind("Namespace"), ""},
	{corev1.SchemeGroupVersion.WithKind("Service"), ""},
	{appsv1.SchemeGroupVersion.WithKind("Deployment"), ""},
}

type problem struct{ path, what string }

func main() {
	version := flag.Bool("version", false, "print the upstream versions built in, after loading every CRD")
	flag.Parse()
	if *version {
		os.Exit(printVersion())
	}
	files := flag.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	c := newChecker()
	found := 0
	for _, name := range files {
		n, err := c.checkFile(name, os.Stdout)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kubecheck: %s: %v\n", name, err)
			os.Exit(2)
		}
		found += n
	}
	if found > 0 {
		os.Exit(1)
	}
}

type checker struct {
	decoder runtime.Decoder
	schemas map[schema.GroupVersionKind]*crdValidator
}

func newChecker() *checker {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, monitoringv1.AddToScheme,
		monitoringv1alpha1.AddToScheme, otelv1beta1.AddToScheme, otelv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	// The serializer the apiserver decodes with; Strict is its fieldValidation=Strict (kubectl's default).
	opts := serializerjson.SerializerOptions{Yaml: true, Strict: true}
	return &checker{
		decoder: serializerjson.NewSerializerWithOptions(serializerjson.DefaultMetaFactory, scheme, scheme, opts),
		schemas: map[schema.GroupVersionKind]*crdValidator{},
	}
}

func (c *checker) checkFile(name string, out io.Writer) (int, error) {
	in := io.Reader(os.Stdin)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		in = f
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	found, doc := 0, 0
	for {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return found, nil
		}
		if err != nil {
			return found, err
		}
		obj := map[string]any{}
		asJSON, err := yaml.YAMLToJSON(raw)
		if err == nil && string(asJSON) == "null" {
			continue // comments or nothing: not a document
		}
		doc++
		var problems []problem
		if err == nil {
			err = utiljson.Unmarshal(asJSON, &obj)
		}
		if err != nil {
			problems = []problem{{"-", "not a YAML mapping: " + err.Error()}}
		} else {
			problems = c.check(raw, obj)
		}
		u := unstructured.Unstructured{Object: obj}
		seen := map[problem]bool{}
		for _, p := range problems {
			if !seen[p] {
				seen[p] = true
				found++
				fmt.Fprintf(out, "%s:DOC#%d %s/%s: %s: %s\n", name, doc, orUnknown(u.GetKind()), orUnknown(u.GetName()),
					p.path, p.what)
			}
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

var strictField = regexp.MustCompile(`^(unknown|duplicate) field "(.*)"$`)
var typeError = regexp.MustCompile(`^json: cannot unmarshal (.+) into Go struct field \w+\.(\S+) of type (\S+)$`)

func (c *checker) check(raw []byte, obj map[string]any) []problem {
	u := &unstructured.Unstructured{Object: obj}
	gvk := u.GroupVersionKind()
	var k *kind
	for i := range kinds {
		if kinds[i].gvk == gvk {
			k = &kinds[i]
		}
	}
	if k == nil {
		return []problem{{"apiVersion/kind", fmt.Sprintf("%q %q is not a kind kubecheck knows (%s)",
			u.GetAPIVersion(), u.GetKind(), knownKinds())}}
	}
	var problems []problem
	typed, _, err := c.decoder.Decode(raw, nil, nil)
	strict, isStrict := runtime.AsStrictDecodingError(err)
	switch {
	case isStrict:
		for _, e := range strict.Errors() {
			if m := strictField.FindStringSubmatch(e.Error()); m != nil {
				problems = append(problems, problem{m[2], m[1] + " field"})
			} else { // a duplicate key in the YAML, found before the JSON decode: the YAML parser's words
				problems = append(problems, problem{"-", strings.Join(strings.Fields(e.Error()), " ")})
			}
		}
	case err != nil:
		if m := typeError.FindStringSubmatch(err.Error()); m != nil {
			problems = append(problems, problem{m[2], fmt.Sprintf("a %s where %s is expected", m[1], m[3])})
		} else {
			problems = append(problems, problem{"-", err.Error()})
		}
		typed = nil
	}
	if collector, ok := typed.(*otelv1beta1.OpenTelemetryCollector); ok {
		problems = append(problems, collectorChecks(collector)...)
	}
	if k.plural == "" {
		if typed != nil {
			problems = append(problems, coreChecks(typed)...)
		}
		return problems
	}
	v, err := c.validator(*k)
	if err != nil {
		return append(problems, problem{"-", "kubecheck is broken: " + err.Error()})
	}
	return append(problems, v.validate(obj)...)
}

func knownKinds() string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.gvk.GroupVersion().String() + " " + k.gvk.Kind
	}
	return "knows: " + strings.Join(names, ", ")
}

func (c *checker) validator(k kind) (*crdValidator, error) {
	if v, ok := c.schemas[k.gvk]; ok {
		return v, nil
	}
	v, err := newCRDValidator(k)
	if err == nil {
		c.schemas[k.gvk] = v
	}
	return v, err
}

// printVersion names the upstream modules built in (from the binary's build information), after loading every
// kind's CRD, so a binary whose embedded schemas are missing or broken fails its version check.
func printVersion() int {
	for _, k := range kinds {
		if k.plural != "" {
			if _, err := newCRDValidator(k); err != nil {
				fmt.Fprintf(os.Stderr, "kubecheck: %v\n", err)
				return 1
			}
		}
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(os.Stderr, "kubecheck: no build information")
		return 1
	}
	var lines []string
	for _, dep := range info.Deps {
		if strings.HasPrefix(dep.Path, "k8s.io/") || strings.HasSuffix(dep.Path, "-operator") ||
			strings.HasPrefix(dep.Path, "github.com/prometheus-operator/") {
			lines = append(lines, dep.Path+" "+dep.Version)
		}
	}
	fmt.Printf("kubecheck (%d kinds) with %s\n", len(kinds), strings.Join(lines, ", "))
	return 0
}
