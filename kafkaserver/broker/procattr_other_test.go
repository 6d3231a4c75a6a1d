//go:build !linux

package broker

import "syscall"

// childAttrs puts a test's server in its own process group (no parent-death signal outside Linux).
func childAttrs() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
