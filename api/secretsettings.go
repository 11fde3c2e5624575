package api

import (
	"maps"
	"strings"

	"github.com/provision/provision/registry"
)

// Secret settings in the API. An object's JSON names its secret settings'
// keys only ("secret_settings": {"KEY": ""}), and the same field written
// back keeps their values (null, or a key left out of a whole object,
// removes one). Values go in through "secret_values" of a profile's or
// system's input, which no answer carries; a global one through PUT
// /api/v1/settings/KEY {"value": ..., "secret": true}. Only an admin's
// ?secrets=1 reads a value back (GET /api/v1/settings/KEY, an export, a
// template preview).

// ProfileInput is the body of a profile add or edit: a Profile plus the
// values of secret settings to set, accepted here and never sent back.
type ProfileInput struct {
	registry.Profile
	SecretValues map[string]string `json:"secret_values,omitempty"`
}

// withSecretValues returns m with values set (keys are case-insensitive,
// as the registry's).
func withSecretValues(m registry.SecretSettings, values map[string]string) registry.SecretSettings {
	if len(values) == 0 {
		return m
	}
	out := maps.Clone(m)
	if out == nil {
		out = registry.SecretSettings{}
	}
	for k, v := range values {
		out[strings.ToLower(k)] = registry.Secret(v)
	}
	return out
}
