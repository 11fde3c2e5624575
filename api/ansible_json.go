package api

import "encoding/json"

// MarshalJSON writes the groups and _meta side by side, as Ansible reads them.
func (inv AnsibleInventory) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(inv.Groups)+1)
	for name, g := range inv.Groups {
		m[name] = g
	}
	m["_meta"] = map[string]any{"hostvars": inv.Hostvars}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (inv *AnsibleInventory) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	var meta struct {
		Hostvars map[string]AnsibleHost `json:"hostvars"`
	}
	if raw, ok := m["_meta"]; ok {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return err
		}
		delete(m, "_meta")
	}
	inv.Groups, inv.Hostvars = map[string]*AnsibleGroup{}, meta.Hostvars
	for name, raw := range m {
		g := &AnsibleGroup{}
		if err := json.Unmarshal(raw, g); err != nil {
			return err
		}
		inv.Groups[name] = g
	}
	return nil
}
