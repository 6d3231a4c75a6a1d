package kafkaclients

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// kgoNeedsFeature are franz-go integration tests that need broker features kafkaserver does not have yet (none
// now: TestTxnEtl, which needs transactions, runs since the transaction coordinator exists).
var kgoNeedsFeature = map[string]string{}

// TestFranzGoIntegrationSuite runs github.com/twmb/franz-go/pkg/kgo's own tests (from the module cache) with
// KGO_SEEDS pointing at a kafkaserver. The package also holds unit tests; those pass anyway and are counted too.
func TestFranzGoIntegrationSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a peer suite")
	}
	c := startCluster(t)

	var skip []string
	for name := range kgoNeedsFeature {
		skip = append(skip, name)
	}
	sort.Strings(skip)
	args := []string{"test", "-count=1", "-v", "-timeout", "4m"}
	if len(skip) > 0 {
		args = append(args, "-skip", "^("+strings.Join(skip, "|")+")$")
	}
	cmd := exec.Command("go", append(args, "github.com/twmb/franz-go/pkg/kgo")...)
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(),
		"KGO_SEEDS="+c.addr,
		"KGO_TEST_RF=1",
		// The ETL tests move this many records through groups; the default 500k takes minutes on 2 cores, 5k keeps them to seconds.
		"KGO_TEST_RECORDS=5000",
		"KGO_LOG_LEVEL=none",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()

	res := regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (Test\S+)`)
	counts := map[string]int{}
	var failed []string
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := res.FindStringSubmatch(sc.Text()); m != nil {
			counts[m[1]]++
			if m[1] == "FAIL" {
				failed = append(failed, m[2])
			}
		}
	}
	t.Logf("franz-go kgo tests against kafkaserver: %d passed, %d failed, %d skipped by the suite; skipped by us for missing features: %s",
		counts["PASS"], len(failed), counts["SKIP"], strings.Join(skip, ", "))
	if runErr != nil || len(failed) > 0 || counts["PASS"] == 0 {
		if err := os.WriteFile(c.dir+"/kgo.out", out.Bytes(), 0o644); err == nil {
			t.Logf("full output in %s/kgo.out", c.dir)
		}
		t.Fatalf("suite failed (%v); failed: %v\n%s", runErr, failed, tail(out.Bytes(), 20000))
	}
}
