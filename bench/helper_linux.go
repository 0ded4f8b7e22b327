package main

import (
	"os/exec"
	"syscall"
)

// setHelperAttrs makes a helper process die with the child that started it
// (a killed child must not leave thousands of links behind).
func setHelperAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
