package ensemble

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// obsrKeys are the keys of each observer in obsr's answer, in Apache's order (LearnerHandler.getLearnerHandlerInfo).
var obsrKeys = []string{"remote_socket_address", "sid", "established", "queued_packets", "queued_packets_size",
	"packets_received", "packets_sent", "requests", "last_zxid"}

// obsrEntry is one observer of an obsr answer: its keys as written and their values.
type obsrEntry struct {
	keys []string
	vals map[string]any
}

func (e obsrEntry) num(k string) int64 {
	f, _ := e.vals[k].(json.Number).Int64()
	return f
}

// enableAdmin turns the admin server on for member id, at its IP and a port of its own; it returns the base URL.
func (en *ensemble) enableAdmin(t *testing.T, id int64) string {
	t.Helper()
	port := strconv.Itoa(en.freePort(t))
	if en.extra[id] == nil {
		en.extra[id] = map[string]string{}
	}
	en.extra[id]["admin.enableServer"] = "true"
	en.extra[id]["admin.serverAddress"] = en.members[id].host()
	en.extra[id]["admin.serverPort"] = port
	return "http://" + en.members[id].host() + ":" + port
}

// adminBody runs an admin server command and returns its answer.
func adminBody(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// obsr asks an admin server for its observers: the synced count and each observer's entry.
func obsr(ctx context.Context, base string) (int64, []obsrEntry, error) {
	body, err := adminBody(ctx, base+"/commands/obsr")
	if err != nil {
		return 0, nil, err
	}
	var top struct {
		Synced    json.Number       `json:"synced_observers"`
		Observers []json.RawMessage `json:"observers"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return 0, nil, fmt.Errorf("obsr %s: %w", body, err)
	}
	n, err := top.Synced.Int64()
	if err != nil {
		return 0, nil, fmt.Errorf("obsr synced_observers in %s: %w", body, err)
	}
	var out []obsrEntry
	for _, raw := range top.Observers {
		e := obsrEntry{vals: map[string]any{}}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if _, err := d.Token(); err != nil { // {
			return 0, nil, err
		}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return 0, nil, err
			}
			var v any
			if err := d.Decode(&v); err != nil {
				return 0, nil, err
			}
			e.keys = append(e.keys, k.(string))
			e.vals[k.(string)] = v
		}
		out = append(out, e)
	}
	return n, out, nil
}

// obsrHas waits until base's obsr lists exactly the observers sids (by sid order) and returns them.
func obsrHas(t *testing.T, ctx context.Context, who, base string, sids ...int64) []obsrEntry {
	t.Helper()
	var entries []obsrEntry
	eventually2(t, ctx, who+"'s obsr", func() error {
		n, es, err := obsr(ctx, base)
		if err != nil {
			return err
		}
		var got []int64
		for _, e := range es {
			got = append(got, e.num("sid"))
		}
		slices.Sort(got)
		if n != int64(len(sids)) || !slices.Equal(got, sids) {
			return fmt.Errorf("synced_observers %d, sids %v; want %v", n, got, sids)
		}
		entries = es
		return nil
	})
	return entries
}

// checkObsrEntry checks what any server's obsr entry for an observer must hold (observers connect from 127.0.0.1
// whatever their own IP).
func checkObsrEntry(t *testing.T, who string, e obsrEntry) {
	t.Helper()
	if !slices.Equal(e.keys, obsrKeys) {
		t.Errorf("%s: obsr keys %v, want %v", who, e.keys, obsrKeys)
	}
	if a, _ := e.vals["remote_socket_address"].(string); !strings.HasPrefix(a, "/127.0.0.") {
		t.Errorf("%s: remote_socket_address %q, want /127.0.0.x:port", who, a)
	}
	if est := e.num("established"); est < time.Now().Add(-10*time.Minute).UnixMilli() || est > time.Now().UnixMilli() {
		t.Errorf("%s: established %d", who, est)
	}
	if e.num("packets_sent") < 1 || e.num("last_zxid") < 1 || e.num("queued_packets") < 0 {
		t.Errorf("%s: counts %v", who, e.vals)
	}
}

// soleObserver waits until base's obsr lists just the observer sid, checks its entry (the config NEWLEADER carried
// read from /zookeeper/config through c) and returns it with that config.
func soleObserver(t *testing.T, ctx context.Context, who, base string, c *zk.Conn, sid int64) (obsrEntry, string) {
	t.Helper()
	config, _, err := c.Get("/zookeeper/config")
	if err != nil {
		t.Fatal(err)
	}
	e := obsrHas(t, ctx, who, base, sid)[0]
	checkObsrEntry(t, who, e)
	checkQueuedSize(t, who, e, string(config))
	return e, string(config)
}

// queuedSizeAfterSync is what Apache's queued_packets_size reads once an observer synced and its queue drained:
// minus NEWLEADER's and UPTODATE's sizes (LearnerHandler queues both without counting them), 28 bytes each and
// the config NEWLEADER carries.
func queuedSizeAfterSync(config string) int64 { return -(28 + int64(len(config)) + 28) }

func checkQueuedSize(t *testing.T, who string, e obsrEntry, config string) {
	t.Helper()
	if q, want := e.num("queued_packets_size"), queuedSizeAfterSync(config); e.num("queued_packets") == 0 && q != want {
		t.Errorf("%s: queued_packets_size %d with nothing queued, want %d (Apache's)", who, q, want)
	}
}
