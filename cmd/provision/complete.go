package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/cliutil"
)

// completion completes the names of objects from the server: what a
// command group's NAME argument names, and the flags that name objects.
var completion = cliutil.Completion{
	Groups: map[string]string{"subnet": "subnets", "image": "images", "profile": "profiles", "system": "systems", "template": "templates", "setting": "settings",
		"discovered": "machines", "rule": "rules", "user": "users"},
	Commands: map[string]string{"power": "systems", "history": "systems"},
	Flags:    map[string]string{"profile": "profiles", "image": "images", "subnet": "subnets", "kickstart": "templates", "system": "systems", "user": "users"},
	Names:    objectNames,
}

// objectNames lists the names (settings: the keys) of one kind of object.
func objectNames(c *cobra.Command, plural string) ([]string, error) {
	var items []struct {
		Name string `json:"name"`
		Key  string `json:"key"`
		MAC  string `json:"mac"` // machines
	}
	var raw json.RawMessage
	if err := client(c).Do(c.Context(), "GET", api.Path(plural), nil, &raw); err != nil {
		return nil, err
	}
	json.Unmarshal(raw, &items)
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, or(it.Name, or(it.Key, it.MAC)))
	}
	return out, nil
}
