package broker

import "syscall"

// childAttrs puts a test's server in its own process group and has it killed with the test process (a timed-out
// or fuzzing test may never run its cleanup).
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
