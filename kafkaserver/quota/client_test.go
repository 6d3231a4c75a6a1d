package quota

import (
	"math"
	"testing"
)

func bound(v float64) *float64 { return &v }

func newTestClients(def float64) *Clients {
	return NewClients(ClientConfig{Type: Produce, Default: def, Windows: 11, WindowMs: 1000})
}

// Without any quota nothing is recorded or throttled; the static default alone enables client-id quotas.
func TestClientsDisabled(t *testing.T) {
	c := newTestClients(Unbounded)
	if c.Enabled() || c.RecordAndThrottle("ANONYMOUS", "a", 1e12, 0) != 0 || len(c.Stats(0)) != 0 {
		t.Fatal("quotas without any quota set")
	}
	if !math.IsInf(c.MaxValueInWindow("ANONYMOUS", "a"), 1) {
		t.Fatal("max value bounded without quotas")
	}
	c = newTestClients(1000)
	if !c.Enabled() || c.Quota("ANONYMOUS", "a") != 1000 {
		t.Fatal("static default not applied")
	}
	if c.Quota("ANONYMOUS", "") != math.Inf(1) {
		t.Fatal("a client without id is held to the client-id default")
	}
}

// The throttle time brings the observed rate back to the bound: O*W/(W+X) = T.
func TestClientsThrottleTime(t *testing.T) {
	c := newTestClients(Unbounded)
	c.SetQuota(Entity{Client: "p"}, bound(1000))
	// 10 000 bytes over the minimum 10 s window is exactly 1000 B/s: not over.
	if ms := c.RecordAndThrottle("ANONYMOUS", "p", 10_000, 0); ms != 0 {
		t.Fatalf("throttled %d ms at the bound", ms)
	}
	// 5000 more: 1500 B/s over 10 s; X = 500/1000*10000 = 5000 ms.
	if ms := c.RecordAndThrottle("ANONYMOUS", "p", 5000, 0); ms != 5000 {
		t.Fatalf("throttle %d ms, want 5000", ms)
	}
	// Another client id is not affected; the quota's removal ends the throttling.
	if ms := c.RecordAndThrottle("ANONYMOUS", "q", 1e9, 0); ms != 0 {
		t.Fatalf("unrelated client throttled %d ms", ms)
	}
	c.SetQuota(Entity{Client: "p"}, nil)
	if ms := c.RecordAndThrottle("ANONYMOUS", "p", 1e9, 0); ms != 0 || !c.Enabled() {
		t.Fatalf("throttled %d ms after the quota was removed (enabled %v)", ms, c.Enabled())
	}
	// Taking back a recorded value (a throttled fetch).
	c.SetQuota(Entity{Client: DefaultEntity}, bound(100))
	c.Record("ANONYMOUS", "r", 2000, 0)
	c.Record("ANONYMOUS", "r", -2000, 0)
	if ms := c.RecordAndThrottle("ANONYMOUS", "r", 1000, 0); ms != 0 {
		t.Fatalf("unrecorded value still counted: %d ms", ms)
	}
	if got := c.MaxValueInWindow("ANONYMOUS", "r"); got != 1000 {
		t.Fatalf("max value in window %v, want 100 B/s * 10 s", got)
	}
}

// DefaultQuotaCallback's order of precedence and the metric tags each level gives.
func TestClientsPrecedence(t *testing.T) {
	c := newTestClients(7)
	set := func(e Entity, v float64) { c.SetQuota(e, bound(v)) }
	set(Entity{Client: DefaultEntity}, 8)
	set(Entity{Client: "c"}, 7)
	check := func(user, client string, want float64, tags Tags) {
		t.Helper()
		if q := c.Quota(user, client); q != want {
			t.Errorf("quota(%q, %q) = %v, want %v", user, client, q, want)
		}
		if got := c.Tags(user, client); got != tags {
			t.Errorf("tags(%q, %q) = %+v, want %+v", user, client, got, tags)
		}
	}
	check("u", "c", 7, Tags{ClientID: "c"})
	check("u", "x", 8, Tags{ClientID: "x"})
	set(Entity{User: DefaultEntity}, 6)
	check("u", "c", 6, Tags{User: "u"})
	set(Entity{DefaultEntity, DefaultEntity}, 5)
	check("u", "c", 5, Tags{"u", "c"})
	set(Entity{DefaultEntity, "c"}, 4)
	check("u", "c", 4, Tags{"u", "c"})
	check("u", "x", 5, Tags{"u", "x"})
	set(Entity{User: "u"}, 3)
	check("u", "c", 3, Tags{User: "u"})
	set(Entity{"u", DefaultEntity}, 2)
	check("u", "c", 2, Tags{"u", "c"})
	set(Entity{"u", "c"}, 1)
	check("u", "c", 1, Tags{"u", "c"})
	check("v", "c", 4, Tags{"v", "c"})
	// Users are matched by their sanitized names.
	set(Entity{User: Sanitize("CN=a b,O=*")}, 9)
	check("CN=a b,O=*", "z", 9, Tags{User: "CN%3Da%20b%2CO%3D%2A"})
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"alice": "alice", "a b": "a%20b", "a*b": "a%2Ab", "ü": "%C3%BC", "a.b-c_d": "a.b-c_d", "a/b": "a%2Fb", "~": "%7E",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
		if back, err := Desanitize(want); err != nil || back != in {
			t.Errorf("Desanitize(%q) = %q, %v", want, back, err)
		}
	}
}

// A quota config applies as a whole: every key present sets its quota, every key absent removes it, and a value
// that does not parse changes nothing.
func TestClientQuotasApply(t *testing.T) {
	q := NewClientQuotas(ClientQuotasConfig{ProducerDefault: Unbounded, ConsumerDefault: Unbounded, Windows: 11, WindowSeconds: 1,
		ControllerWindows: 11, ControllerWindowSeconds: 1})
	e := Entity{Client: "app"}
	if q.ControllerMutation.Enabled() {
		t.Fatal("controller mutation quota enabled without a quota")
	}
	if err := q.Apply(e, map[string]string{ProducerByteRate: "100", ConsumerByteRate: "200", RequestPercentage: "50.5",
		ControllerMutationRate: "2.5"}); err != nil {
		t.Fatal(err)
	}
	if q.Produce.Quota("u", "app") != 100 || q.Fetch.Quota("u", "app") != 200 || q.ControllerMutation.Quota("u", "app") != 2.5 ||
		q.Request.Quota("u", "app") != 50.5 {
		t.Fatalf("quotas %v %v %v", q.Produce.Quota("u", "app"), q.Fetch.Quota("u", "app"), q.ControllerMutation.Quota("u", "app"))
	}
	for _, bad := range []map[string]string{{ProducerByteRate: "1.5"}, {ConsumerByteRate: "x"}, {RequestPercentage: "lots"},
		{ProducerByteRate: "7", ControllerMutationRate: "fast"}} {
		if err := q.Apply(e, bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if q.Produce.Quota("u", "app") != 100 {
		t.Fatal("a failed change was partly applied")
	}
	if err := q.Apply(e, map[string]string{ConsumerByteRate: "300"}); err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(q.Produce.Quota("u", "app"), 1) || q.Fetch.Quota("u", "app") != 300 ||
		!math.IsInf(q.ControllerMutation.Quota("u", "app"), 1) || !math.IsInf(q.Request.Quota("u", "app"), 1) {
		t.Fatalf("after the producer and mutation quotas were dropped: %v %v %v", q.Produce.Quota("u", "app"),
			q.Fetch.Quota("u", "app"), q.ControllerMutation.Quota("u", "app"))
	}
}

// The request quota's throttle time is bounded by one quota window (ClientRequestQuotaManager's
// maxThrottleTimeMs); the exempt sensor counts only once some request quota is set.
func TestRequestQuotaThrottleBound(t *testing.T) {
	q := NewClientQuotas(ClientQuotasConfig{ProducerDefault: Unbounded, ConsumerDefault: Unbounded, Windows: 11, WindowSeconds: 1,
		ControllerWindows: 11, ControllerWindowSeconds: 1})
	q.Request.RecordExempt(50, 0)
	if q.Request.Enabled() || q.Request.ExemptRate(0) != 0 {
		t.Fatal("request quota enabled, or exempt time counted, without a quota")
	}
	q.Request.SetQuota(Entity{Client: "p"}, bound(10))
	// 150 percent-seconds over the minimum 10 s window is 15%: X = 5/10*10000 = 5000 ms, bounded to 1000.
	if ms := q.Request.RecordAndThrottle("ANONYMOUS", "p", 150, 0); ms != 1000 {
		t.Fatalf("throttle %d ms, want the 1000 ms window", ms)
	}
	// The produce quota's is not bounded.
	q.Produce.SetQuota(Entity{Client: "p"}, bound(10))
	if ms := q.Produce.RecordAndThrottle("ANONYMOUS", "p", 150, 0); ms != 5000 {
		t.Fatalf("produce throttle %d ms, want 5000", ms)
	}
	q.Request.RecordExempt(50, 0)
	if r := q.Request.ExemptRate(0); r != 5 {
		t.Fatalf("exempt rate %v, want 50 over 10 s", r)
	}
}
