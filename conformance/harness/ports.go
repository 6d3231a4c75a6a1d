package harness

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Ports for servers come from outside the kernel's ephemeral range and are reserved with a lock file. A port the
// kernel handed out for 127.0.0.1:0 was free when asked, but until the server (a JVM that takes seconds to start)
// bound it, any outgoing connection could take it as its local port and another test process could be handed it
// too: Apache's election port was seen taken that way.
const (
	portLockDir  = "zkafka-test-ports"
	portAttempts = 1000
)

// FreePort returns a free 127.0.0.1 TCP port below the ephemeral range, reserved for this process until it exits:
// no other caller of FreePort, in this process or another, gets it, and no outgoing connection takes it.
func FreePort() (int, error) {
	lo, hi := reservablePorts()
	dir := filepath.Join(os.TempDir(), portLockDir)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, fmt.Errorf("harness: port lock dir: %w", err)
	}
	for range portAttempts {
		p := lo + rand.IntN(hi-lo)
		ok, err := reservePort(dir, p)
		if err != nil {
			return 0, err
		}
		if ok && bindable(p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("harness: no free port in %d-%d after %d tries", lo, hi, portAttempts)
}

// FreePorts returns n distinct ports as FreePort does.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// reservablePorts is the range [lo, hi) that FreePort picks from: below the kernel's ephemeral range, or above it
// when that starts too low.
func reservablePorts() (lo, hi int) {
	elo, ehi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var a, z int
		if _, err := fmt.Sscan(string(b), &a, &z); err == nil {
			elo, ehi = a, z
		}
	}
	if elo-10000 >= 5000 {
		return 10000, elo
	}
	return ehi + 1, 65536
}

// reservePort takes the lock of port p; false when another reservation holds it. The lock's descriptor is
// deliberately never closed (a raw descriptor, no finalizer): the kernel drops the lock when the process exits.
func reservePort(dir string, p int) (bool, error) {
	fd, err := syscall.Open(filepath.Join(dir, strconv.Itoa(p)), syscall.O_CREAT|syscall.O_RDONLY|syscall.O_CLOEXEC, 0o666)
	if err != nil {
		return false, fmt.Errorf("harness: port lock %d: %w", p, err)
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		syscall.Close(fd)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil
		}
		return false, fmt.Errorf("harness: port lock %d: %w", p, err)
	}
	return true, nil
}

// bindable reports whether 127.0.0.1:p can be listened on now (something outside the reservations may hold it).
func bindable(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
