package api

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
)

// undeclared lists the fields of a JSON answer that its schema does not
// name: the description stays open to new fields for its clients, but
// the tests hold it to every field the API answers. A free-form object
// (no properties, no additionalProperties) is not looked into.
func undeclared(s *openapi3.Schema, body []byte) []string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	return walkFields(s, v, "")
}

func walkFields(s *openapi3.Schema, v any, at string) []string {
	if s == nil {
		return nil
	}
	if alts := append(slices.Clone(s.OneOf), s.AnyOf...); len(alts) > 0 {
		return bestAlternative(alts, v, at)
	}
	switch v := v.(type) {
	case map[string]any:
		return objectFields(s, v, at)
	case []any:
		var out []string
		if items := itemsOf(s); items != nil {
			for _, x := range v {
				out = append(out, walkFields(items, x, at+"[]")...)
			}
		}
		return out
	}
	return nil
}

// objectFields checks the keys of v against s's properties (with those of
// its allOf members) or its additionalProperties.
func objectFields(s *openapi3.Schema, v map[string]any, at string) []string {
	props, extra, free := fieldsOf(s)
	if free {
		return nil
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(v)) {
		switch p, ok := props[k]; {
		case ok:
			out = append(out, walkFields(p, v[k], at+"."+k)...)
		case extra != nil:
			out = append(out, walkFields(extra, v[k], at+"."+k)...)
		default:
			out = append(out, at+"."+k)
		}
	}
	return out
}

// fieldsOf merges the properties of s and of its allOf members; extra is
// the schema of other keys (nil: none allowed); free says s declares
// nothing at all.
func fieldsOf(s *openapi3.Schema) (props map[string]*openapi3.Schema, extra *openapi3.Schema, free bool) {
	props = map[string]*openapi3.Schema{}
	declared := false
	var add func(*openapi3.Schema)
	add = func(s *openapi3.Schema) {
		for k, p := range s.Properties {
			props[k], declared = p.Value, true
		}
		if a := s.AdditionalProperties; a.Schema != nil {
			extra, declared = a.Schema.Value, true
		} else if a.Has != nil && *a.Has {
			extra, declared = &openapi3.Schema{}, true
		}
		for _, m := range s.AllOf {
			add(m.Value)
		}
	}
	add(s)
	return props, extra, !declared
}

func itemsOf(s *openapi3.Schema) *openapi3.Schema {
	if s.Items != nil {
		return s.Items.Value
	}
	return nil
}

// bestAlternative is the undeclared fields of the oneOf/anyOf branch
// that leaves the fewest.
func bestAlternative(alts openapi3.SchemaRefs, v any, at string) []string {
	var best []string
	for i, a := range alts {
		if got := walkFields(a.Value, v, at); i == 0 || len(got) < len(best) {
			best = got
		}
	}
	return best
}
