package broker

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadProfile measures the broker under bench-kafka's loads (a 0.9 client: Produce v1, Fetch v1) in counts
// that do not depend on how busy the machine is: the broker process's CPU seconds, heap allocations and bytes
// allocated per MB of record values moved, and GC cycles. The loads come from a separate process
// (zkafka bench kafka), so this process's CPU is the broker's own (ZooKeeper is a separate process too).
//
// It runs only when ZKAFKA_LOADPROF names a directory for the CPU and allocation profiles of each load, and needs
// a zkafka binary (ZKAFKA_BIN, default ../../bin/zkafka). ZKAFKA_LOADPROF_MB sets the MB each produce writes (64);
// ZKAFKA_LOADPROF_ARGS adds arguments to every load (e.g. "--client raw --inflight 5"); ZKAFKA_LOADPROF_PROPS sets
// broker properties (e.g. "log.message.format.version=0.9.0").
func TestLoadProfile(t *testing.T) {
	out := os.Getenv("ZKAFKA_LOADPROF")
	if out == "" {
		t.Skip("ZKAFKA_LOADPROF not set")
	}
	bin := os.Getenv("ZKAFKA_BIN")
	if bin == "" {
		bin, _ = filepath.Abs("../../bin/zkafka")
	}
	mb := 64
	if s := os.Getenv("ZKAFKA_LOADPROF_MB"); s != "" {
		var err error
		if mb, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	only := os.Getenv("ZKAFKA_LOADPROF_ONLY") // substring filter on load names
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t)
	c.start(strings.Fields(os.Getenv("ZKAFKA_LOADPROF_PROPS"))...)
	type load struct {
		name string
		args []string
	}
	var loads []load
	for _, size := range []int{100, 1024} {
		for _, parts := range []int{1, 8} {
			topic := fmt.Sprintf("bench-s%d-p%d", size, parts)
			n := mb << 20 / size
			for _, acks := range []string{"1", "all"} {
				loads = append(loads, load{fmt.Sprintf("produce-acks%s-s%d-p%d", acks, size, parts),
					[]string{"--topic", topic, "--op", "produce", "--acks", acks, "--size", fmt.Sprint(size),
						"--partitions", fmt.Sprint(parts), "--records", fmt.Sprint(n), "--buffered", "10000"}})
			}
			loads = append(loads, load{fmt.Sprintf("consume-s%d-p%d", size, parts),
				[]string{"--topic", topic, "--op", "consume", "--size", fmt.Sprint(size), "--partitions", fmt.Sprint(parts),
					"--duration", "10m"}})
		}
	}
	t.Logf("%-26s %8s %9s %10s %10s %6s %9s", "load", "MB", "CPU s/GB", "allocs/MB", "KiB/MB", "GCs", "wall MB/s")
	for _, l := range loads {
		if only != "" && !strings.Contains(l.name, only) {
			// The consume loads need what the produce loads wrote: run those unmeasured.
			if strings.HasPrefix(l.name, "produce") && strings.HasPrefix(only, "consume") {
				runBench(t, bin, c.addr(), l.args)
			}
			continue
		}
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		cpu0 := processCPU(t)
		f, err := os.Create(filepath.Join(out, l.name+".cpu"))
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res := runBench(t, bin, c.addr(), l.args)
		wall := time.Since(start)
		pprof.StopCPUProfile()
		f.Close()
		cpu := processCPU(t) - cpu0
		runtime.ReadMemStats(&m1)
		if af, err := os.Create(filepath.Join(out, l.name+".allocs")); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(af, 0)
			af.Close()
		}
		mbs := float64(res) / 1e6
		t.Logf("%-26s %8.1f %9.2f %10.0f %10.0f %6d %9.1f", l.name, mbs, cpu.Seconds()/mbs*1000,
			float64(m1.Mallocs-m0.Mallocs)/mbs, float64(m1.TotalAlloc-m0.TotalAlloc)/1024/mbs, m1.NumGC-m0.NumGC,
			mbs/wall.Seconds())
	}
}

// runBench runs one zkafka bench kafka load at 0.9 request versions and returns the bytes of values it moved.
func runBench(t *testing.T, bin, addr string, args []string) int64 {
	t.Helper()
	args = append([]string{"bench", "kafka", "--brokers", addr, "--max-version", "0.9.0", "--json"}, args...)
	cmd := exec.Command(bin, append(args, strings.Fields(os.Getenv("ZKAFKA_LOADPROF_ARGS"))...)...)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
	}
	s := string(b)
	i := strings.Index(s, `"bytes":`)
	if i < 0 {
		t.Fatalf("no bytes in %s", s)
	}
	s = s[i+len(`"bytes":`):]
	j := strings.IndexAny(s, ",}")
	n, err := strconv.ParseInt(strings.TrimSpace(s[:j]), 10, 64)
	if err != nil {
		t.Fatalf("bytes in %s: %v", b, err)
	}
	return n
}

// processCPU is this process's user plus system CPU time.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
