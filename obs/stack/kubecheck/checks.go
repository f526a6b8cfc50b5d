package main

// Checks beyond decoding and schemas: the OpenTelemetry Operator's, and the core kinds'.

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	otelv1beta1 "github.com/open-telemetry/opentelemetry-operator/apis/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// portNameMax is the longest port name Kubernetes takes (an IANA service name); the operator truncates longer ones.
const portNameMax = 15

// collectorChecks are the OpenTelemetry Operator's checks of a collector that need no cluster, through the
// functions its webhook calls (the webhook itself is internal to the operator's module).
func collectorChecks(c *otelv1beta1.OpenTelemetryCollector) []problem {
	logger := logr.Discard()
	var problems []problem
	for _, null := range c.Spec.Config.NullObjects() {
		problems = append(problems, problem{"spec.config." + strings.TrimSuffix(null, ":"), "is null; the operator warns that kustomize and " +
			"kubectl edit drop null objects: write {}"})
	}
	for i, p := range c.Spec.Ports {
		at := fmt.Sprintf("spec.ports[%d]", i)
		for _, msg := range append(validation.IsValidPortName(p.Name), validation.IsValidPortNum(int(p.Port))...) {
			problems = append(problems, problem{at, msg})
		}
	}
	ports, err := c.Spec.Config.GetAllPorts(logger)
	if err != nil {
		problems = append(problems, problem{"spec.config", "the operator cannot derive the collector's ports: " + err.Error()})
	}
	for _, p := range ports {
		if len(p.Name) > portNameMax {
			problems = append(problems, problem{"spec.config", fmt.Sprintf("the operator truncates the port name %q to "+
				"%d characters", p.Name, portNameMax)})
		}
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			problems = append(problems, problem{"spec.config", fmt.Sprintf("port %q: %s", p.Name, msg)})
		}
	}
	if _, _, err := c.Spec.Config.Service.MetricsEndpoint(logger); err != nil {
		problems = append(problems, problem{"spec.config.service.telemetry", "the operator cannot find the metrics " +
			"endpoint: " + err.Error()})
	}
	defaulted := c.Spec.Config.DeepCopy()
	if _, err := defaulted.ApplyDefaults(logger); err != nil {
		problems = append(problems, problem{"spec.config", "the operator cannot apply its defaults: " + err.Error()})
	}
	return problems
}

// coreChecks restate the apiserver's checks of the core kinds obs writes (k8s.io/kubernetes, where they live, is
// not a module others can require): the generic metadata checks from apimachinery, and the data rules.
func coreChecks(obj runtime.Object) []problem {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return []problem{{"metadata", err.Error()}}
	}
	nameFn, namespaced := metavalidation.NameIsDNSSubdomain, true
	var data map[string]int
	var extra field.ErrorList
	switch o := obj.(type) {
	case *corev1.Namespace:
		nameFn, namespaced = metavalidation.ValidateNamespaceName, false
	case *corev1.ConfigMap:
		data = map[string]int{}
		for key, value := range o.Data {
			data[key] = len(value)
		}
		for key, value := range o.BinaryData {
			if _, both := data[key]; both {
				data[key] = -1
			} else {
				data[key] = len(value)
			}
		}
	case *appsv1.Deployment:
		extra = deploymentChecks(o)
	case *corev1.Service:
		extra = serviceChecks(o)
	case *corev1.Secret:
		data = map[string]int{}
		for key, value := range o.Data {
			data[key] = len(value)
		}
		for key, value := range o.StringData {
			data[key] = len(value)
		}
	}
	if namespaced && accessor.GetNamespace() == "" {
		accessor.SetNamespace("default") // a request's namespace fills an object that names none
	}
	errs := metavalidation.ValidateObjectMetaAccessor(accessor, namespaced, nameFn, field.NewPath("metadata"))
	errs = append(errs, extra...)
	total := 0
	for _, key := range slices.Sorted(maps.Keys(data)) {
		size := data[key]
		at := field.NewPath("data").Key(key)
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(at, key, msg))
		}
		if size < 0 {
			errs = append(errs, field.Invalid(at, key, "duplicate of key present in binaryData"))
		}
		total += max(size, 0)
	}
	if total > corev1.MaxSecretSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", corev1.MaxSecretSize))
	}
	return fieldProblems(errs)
}

// deploymentChecks restate the apiserver's apps/v1 rules a generated Deployment could break: a selector that
// selects its own pods, and containers with names and ports the kubelet takes.
func deploymentChecks(d *appsv1.Deployment) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels)+len(d.Spec.Selector.MatchExpressions) == 0 {
		return append(errs, field.Required(spec.Child("selector"), "a Deployment selects its pods"))
	}
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		errs = append(errs, field.Invalid(spec.Child("selector"), d.Spec.Selector, err.Error()))
	} else if !selector.Matches(labels.Set(d.Spec.Template.Labels)) {
		errs = append(errs, field.Invalid(spec.Child("template", "metadata", "labels"), d.Spec.Template.Labels,
			"`selector` does not match template `labels`"))
	}
	pod := spec.Child("template", "spec")
	if len(d.Spec.Template.Spec.Containers) == 0 {
		errs = append(errs, field.Required(pod.Child("containers"), ""))
	}
	for i, ctr := range d.Spec.Template.Spec.Containers {
		at := pod.Child("containers").Index(i)
		for _, msg := range validation.IsDNS1123Label(ctr.Name) {
			errs = append(errs, field.Invalid(at.Child("name"), ctr.Name, msg))
		}
		if ctr.Image == "" {
			errs = append(errs, field.Required(at.Child("image"), ""))
		}
		for j, port := range ctr.Ports {
			errs = append(errs, portChecks(at.Child("ports").Index(j), port.Name, "containerPort", port.ContainerPort)...)
		}
	}
	return errs
}

// serviceChecks: ports named and numbered as the apiserver takes them, each targetPort a number or a port name.
func serviceChecks(s *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	ports := field.NewPath("spec", "ports")
	if len(s.Spec.Ports) == 0 && s.Spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(ports, ""))
	}
	for i, port := range s.Spec.Ports {
		at := ports.Index(i)
		if len(s.Spec.Ports) > 1 && port.Name == "" {
			errs = append(errs, field.Required(at.Child("name"), "a Service with several ports names each"))
		}
		errs = append(errs, portChecks(at, port.Name, "port", port.Port)...)
		if port.TargetPort.StrVal != "" {
			for _, msg := range validation.IsValidPortName(port.TargetPort.StrVal) {
				errs = append(errs, field.Invalid(at.Child("targetPort"), port.TargetPort.StrVal, msg))
			}
		}
	}
	return errs
}

func portChecks(at *field.Path, name, numberField string, number int32) field.ErrorList {
	var errs field.ErrorList
	if name != "" {
		for _, msg := range validation.IsValidPortName(name) {
			errs = append(errs, field.Invalid(at.Child("name"), name, msg))
		}
	}
	for _, msg := range validation.IsValidPortNum(int(number)) {
		errs = append(errs, field.Invalid(at.Child(numberField), number, msg))
	}
	return errs
}
