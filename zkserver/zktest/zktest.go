// Package zktest runs a standalone zkserver inside a test's process, on a loopback port, for the test's lifetime:
// what tests of ZooKeeper's clients (the broker's packages, the benchmark client) need as their ensemble.
package zktest

import (
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/zkserver"
)

// Start runs a standalone zkserver with its data under dir (a test's temporary directory when empty), logging to
// logger (nothing when nil), and stops it when the test ends. It returns the server; Addr is its client address.
func Start(t testing.TB, dir string, logger *slog.Logger) *zkserver.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	zc, err := zoocfg.FromProperties([]zoocfg.Property{
		{Key: "tickTime", Value: "2000"}, {Key: "initLimit", Value: "10"}, {Key: "syncLimit", Value: "5"},
		{Key: "dataDir", Value: filepath.Join(dir, "zookeeper")}, {Key: "clientPort", Value: strconv.Itoa(port)},
		{Key: "clientPortAddress", Value: "127.0.0.1"}, {Key: "admin.enableServer", Value: "false"},
	}, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := zkserver.Start(zkserver.ConfigFromZooCfg(zc, logger))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}
