package main

// The custom resources: validated against their CRDs as the apiserver does.

import (
	"context"
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/crdserverscheme"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// crdValidator is what the apiserver builds from a CRD to serve one version of it.
type crdValidator struct {
	gvk        schema.GroupVersionKind
	namespaced bool
	structural *structuralschema.Structural
	strategy   interface {
		PrepareForCreate(context.Context, runtime.Object)
		Validate(context.Context, runtime.Object) field.ErrorList
	}
}

func newCRDValidator(k kind) (*crdValidator, error) {
	file := fmt.Sprintf("crds/%s_%s.yaml", k.gvk.Group, k.plural)
	data, err := crds.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("no CRD for %s: %w", k.gvk, err)
	}
	external := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, external); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	crd := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(external, crd, nil); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var served *apiextensionsv1.CustomResourceDefinitionVersion
	for i := range external.Spec.Versions {
		if v := &external.Spec.Versions[i]; v.Name == k.gvk.Version && v.Served && crd.Spec.Names.Kind == k.gvk.Kind {
			served = v
		}
	}
	if served == nil {
		return nil, fmt.Errorf("%s does not serve %s", file, k.gvk)
	}
	validation, err := apiextensions.GetSchemaForVersion(crd, k.gvk.Version)
	if err != nil || validation == nil || validation.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("%s has no schema for %s (%v)", file, k.gvk.Version, err)
	}
	structural, err := structuralschema.NewStructural(validation.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("%s: the schema is not structural: %w", file, err)
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(validation.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	subresources, err := apiextensions.GetSubresourcesForVersion(crd, k.gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var status *apiextensions.CustomResourceSubresourceStatus
	var scale *apiextensions.CustomResourceSubresourceScale
	if subresources != nil {
		status, scale = subresources.Status, subresources.Scale
	}
	namespaced := crd.Spec.Scope == apiextensions.NamespaceScoped
	strategy := customresource.NewStrategy(crdserverscheme.NewUnstructuredObjectTyper(), namespaced, k.gvk, validator,
		validator, structural, status, scale, served.SelectableFields)
	return &crdValidator{k.gvk, namespaced, structural, strategy}, nil
}

// validate follows a create request: decoding (unknown fields pruned, and with fieldValidation=Strict reported;
// defaults applied), then the strategy's preparation and validation, then the generic metadata checks.
func (v *crdValidator) validate(original map[string]any) []problem {
	obj := runtime.DeepCopyJSON(original)
	var problems []problem
	objectMeta, _, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(obj,
		schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return []problem{{"metadata", err.Error()}}
	}
	unknown = append(unknown, pruning.PruneWithOptions(obj, v.structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	defaulting.PruneNonNullableNullsWithoutDefaults(obj, v.structural)
	coerceErr, coerced := schemaobjectmeta.CoerceWithOptions(nil, obj, v.structural, false,
		schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if coerceErr != nil {
		problems = append(problems, problem{coerceErr.Field, coerceErr.ErrorBody()})
	}
	for _, p := range append(unknown, coerced...) {
		problems = append(problems, problem{p, "unknown field"})
	}
	if objectMeta != nil {
		if err := schemaobjectmeta.SetObjectMeta(obj, objectMeta); err != nil {
			return append(problems, problem{"metadata", err.Error()})
		}
	}
	defaulting.Default(obj, v.structural)
	u := &unstructured.Unstructured{Object: obj}
	if v.namespaced && u.GetNamespace() == "" {
		u.SetNamespace("default") // a request's namespace fills an object that names none
	}
	ctx := context.Background()
	v.strategy.PrepareForCreate(ctx, u)
	errs := v.strategy.Validate(ctx, u)
	errs = append(errs, metavalidation.ValidateObjectMetaAccessor(u, v.namespaced, path.ValidatePathSegmentName,
		field.NewPath("metadata"))...)
	return append(problems, fieldProblems(errs)...)
}

func fieldProblems(errs field.ErrorList) []problem {
	problems := make([]problem, 0, len(errs))
	for _, e := range errs {
		at := e.Field
		if at == "" || at == "<nil>" { // the object as a whole
			at = "-"
		}
		problems = append(problems, problem{at, e.ErrorBody()})
	}
	return problems
}
