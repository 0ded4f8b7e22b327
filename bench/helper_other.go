//go:build !linux

package main

import "os/exec"

// setHelperAttrs: outside Linux a helper ends when its stdin closes.
func setHelperAttrs(*exec.Cmd) {}
