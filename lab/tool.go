package lab

import (
	"fmt"
	"os"
	"path/filepath"
)

// ToolIn returns the path of a script that runs the program name (as
// found on PATH now) in n's server namespace, with the script's
// arguments, standard streams and environment: for code in this process
// that runs a tool by its path and must reach what lives in that
// namespace, such as package console's ipmitool (ManagerConfig.Ipmitool)
// talking to a PoweredVM's BMC. ip netns exec replaces itself with the
// program, so the script's pid is the program's.
func (e *Env) ToolIn(n *Net, name string) (string, error) {
	bin, err := needCommand(name, name)
	if err != nil {
		return "", err
	}
	dir, err := e.TempDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, filepath.Base(name))
	script := fmt.Sprintf("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n", shellQuote(n.ServerNS), shellQuote(bin))
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return "", fmt.Errorf("lab: %w", err)
	}
	return path, nil
}
