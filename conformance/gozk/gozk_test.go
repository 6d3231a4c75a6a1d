// Package gozk runs github.com/go-zookeeper/zk's own integration tests (from
// the module cache) against zkserver through a zkServer.sh shim.
package gozk

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// reconfigTests reconfigure a 3-server ensemble (dynamic reconfiguration: remove the leader, add a server, replace
// the membership); go-zookeeper runs them only when ZK_VERSION (set here to the release zkserver is) is at least
// 3.5, so they must be seen passing, not skipped. Its other ensemble tests (BasicCluster, ClientClusterFailover,
// NoQuorum, RecurringReAuthHang, DNSHostProviderReconnect) run on three zkservers too.
var reconfigTests = []string{
	"TestIntegration_IncrementalReconfig",
	"TestIntegration_Reconfig",
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func TestGoZookeeperIntegrationSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a peer suite")
	}
	root := repoRoot(t)
	bin := filepath.Join(t.TempDir(), "zkserver")
	build := exec.Command("go", "build", "-o", bin, "./cmd/zkserver")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build zkserver: %v\n%s", err, out)
	}
	shimDir, err := filepath.Abs("bin")
	if err != nil {
		t.Fatal(err)
	}
	passed, failed, out, runErr := runSuite(root, shimDir, bin, "Integration")
	t.Logf("go-zookeeper/zk integration tests against zkserver: %d passed, %d failed", len(passed), len(failed))
	if runErr != nil && len(failed) > 0 && len(passed) > 0 {
		// Some of go-zookeeper's tests race real time (SlowServer: a 1 s session behind a proxy adding 2 s); on
		// this shared 2-core machine, beside other suites (which go on running in other packages), one can lose
		// the race, even alone. Those run again, alone, up to three times; they must pass then.
		for try := 1; try <= 3 && len(failed) > 0; try++ {
			t.Logf("running again alone (%d): %v\n%s", try, failed, out)
			retry := failed
			var passedAgain []string
			passedAgain, _, out, runErr = runSuite(root, shimDir, bin, "^("+strings.Join(retry, "|")+")$")
			failed = slices.DeleteFunc(slices.Clone(retry), func(n string) bool { return slices.Contains(passedAgain, n) })
			t.Logf("again: %d passed, %d failed", len(passedAgain), len(failed))
			passed = append(passed, passedAgain...)
		}
	}
	if runErr != nil || len(failed) > 0 || len(passed) == 0 {
		t.Fatalf("suite failed (%v); failed: %v\n%s", runErr, failed, out)
	}
	for _, name := range reconfigTests {
		if !slices.Contains(passed, name) {
			t.Errorf("%s did not pass (skipped?)", name)
		}
	}
}

var (
	passLine = regexp.MustCompile(`^--- PASS: (TestIntegration_\S+)`)
	failLine = regexp.MustCompile(`^--- FAIL: (TestIntegration_\S+)`)
)

// runSuite runs go-zookeeper's tests matching run against bin and returns the tests that passed and failed.
func runSuite(root, shimDir, bin, run string) (passed, failed []string, out string, err error) {
	cmd := exec.Command("go", "test", "-count=1", "-v", "-timeout", "10m", "-run", run, "github.com/go-zookeeper/zk")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ZOOKEEPER_BIN_PATH="+shimDir, "ZKSERVER_BIN="+bin, "ZK_VERSION=3.8.0")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := passLine.FindStringSubmatch(line); m != nil {
			passed = append(passed, m[1])
		}
		if m := failLine.FindStringSubmatch(line); m != nil {
			failed = append(failed, m[1])
		}
	}
	return passed, failed, buf.String(), err
}
