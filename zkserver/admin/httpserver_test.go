package admin

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func startAdmin(t *testing.T, src Source) string {
	t.Helper()
	a, err := NewAdminServer(src, "127.0.0.1:0", "/commands", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	})
	return "http://" + a.Addr().String()
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// The golden bodies are byte-for-byte what Apache 3.8.0's Jackson printer
// produces for the same data.
func TestAdminServerGolden(t *testing.T) {
	base := startAdmin(t, newFake())
	cases := map[string]string{
		"ruok":               "{\n  \"command\" : \"ruok\",\n  \"error\" : null\n}",
		"dirs":               "{\n  \"datadir_size\" : 457,\n  \"logdir_size\" : 67109337,\n  \"command\" : \"dirs\",\n  \"error\" : null\n}",
		"isro":               "{\n  \"read_only\" : false,\n  \"command\" : \"is_read_only\",\n  \"error\" : null\n}",
		"leader":             "{\n  \"error\" : \"server is not initialized\",\n  \"command\" : \"leader\"\n}",
		"stmk":               "{\n  \"error\" : \"setTraceMask requires long traceMask argument\",\n  \"command\" : \"set_trace_mask\"\n}",
		"stmk?traceMask=306": "{\n  \"tracemask\" : 306,\n  \"command\" : \"set_trace_mask\",\n  \"error\" : null\n}",
		"nosuch":             "{\n  \"command\" : \"nosuch\",\n  \"error\" : \"Unknown command: nosuch\"\n}",
		"voting_view":        "{\n  \"current_config\" : { },\n  \"command\" : \"voting_view\",\n  \"error\" : null\n}",
		"obsr":               "{\n  \"synced_observers\" : 0,\n  \"observers\" : [ ],\n  \"command\" : \"observers\",\n  \"error\" : null\n}",
		"zabstate":           "{\n  \"voting\" : false,\n  \"zabstate\" : \"\",\n  \"command\" : \"zabstate\",\n  \"error\" : null\n}",
		"wchs": "{\n  \"num_connections\" : 2,\n  \"num_paths\" : 2,\n  \"num_total_watches\" : 3,\n" +
			"  \"command\" : \"watch_summary\",\n  \"error\" : null\n}",
		"wchp": "{\n  \"path_to_session_ids\" : {\n    \"/a\" : [ 72057641484943360, 72057641484943361 ],\n" +
			"    \"/nope\" : [ 72057641484943361 ]\n  },\n  \"command\" : \"watches_by_path\",\n  \"error\" : null\n}",
		"wchc": "{\n  \"session_id_to_watched_paths\" : {\n    \"72057641484943360\" : [ \"/a\" ],\n" +
			"    \"72057641484943361\" : [ \"/a\", \"/nope\" ]\n  },\n  \"command\" : \"watches\",\n  \"error\" : null\n}",
		"hash": "{\n  \"digests\" : [ {\n    \"zxid\" : 128,\n    \"digest\" : 271392852801,\n    \"digest_version\" : 2\n" +
			"  } ],\n  \"command\" : \"hash\",\n  \"error\" : null\n}",
		"dump": "{\n  \"expiry_time_to_session_ids\" : {\n    \"1795316862000\" : [ ],\n" +
			"    \"1795316866000\" : [ 72057641484943360, 72057641484943361 ]\n  },\n" +
			"  \"session_id_to_ephemeral_paths\" : {\n    \"72057641484943360\" : [ \"/b\" ],\n" +
			"    \"72057641484943361\" : [ \"/a/e1\", \"/a/e2\" ]\n  },\n  \"command\" : \"dump\",\n  \"error\" : null\n}",
		"conf": "{\n  \"client_port\" : 21811,\n  \"data_dir\" : \"/tmp/zk/version-2\",\n" +
			"  \"data_log_dir\" : \"/tmp/zk/version-2\",\n  \"tick_time\" : 2000,\n  \"max_client_cnxns\" : 60,\n" +
			"  \"min_session_timeout\" : 4000,\n  \"max_session_timeout\" : 40000,\n  \"server_id\" : 0,\n" +
			"  \"client_port_listen_backlog\" : -1,\n  \"command\" : \"configuration\",\n  \"error\" : null\n}",
		"cons": "{\n  \"connections\" : [ {\n    \"remote_socket_address\" : \"127.0.0.1:47168\",\n" +
			"    \"interest_ops\" : 1,\n    \"outstanding_requests\" : 0,\n    \"packets_received\" : 5,\n" +
			"    \"packets_sent\" : 5,\n    \"session_id\" : 72057641484943360,\n    \"last_operation\" : \"PING\",\n" +
			"    \"established\" : 1795316850806,\n    \"session_timeout\" : 10000,\n    \"last_cxid\" : 2,\n" +
			"    \"last_zxid\" : 6,\n    \"last_response_time\" : 1795316860000,\n    \"last_latency\" : 78,\n" +
			"    \"min_latency\" : 0,\n    \"avg_latency\" : 25,\n    \"max_latency\" : 78\n  }, {\n" +
			"    \"remote_socket_address\" : \"127.0.0.1:52990\",\n    \"interest_ops\" : 0,\n" +
			"    \"outstanding_requests\" : 0,\n    \"packets_received\" : 1,\n    \"packets_sent\" : 0,\n" +
			"    \"session_id\" : 0,\n    \"last_operation\" : \"NA\",\n    \"established\" : 1795316850806,\n" +
			"    \"session_timeout\" : 0,\n    \"last_cxid\" : 0,\n    \"last_zxid\" : 0,\n" +
			"    \"last_response_time\" : 0,\n    \"last_latency\" : 0,\n    \"min_latency\" : 0,\n" +
			"    \"avg_latency\" : 0,\n    \"max_latency\" : 0\n  } ],\n  \"secure_connections\" : [ ],\n" +
			"  \"command\" : \"connections\",\n  \"error\" : null\n}",
		"srvr": "{\n  \"version\" : \"3.8.0-zkafka, built on 2026-11-22 02:55 UTC\",\n  \"read_only\" : false,\n" +
			"  \"server_stats\" : {\n    \"packets_sent\" : 32,\n    \"packets_received\" : 33,\n" +
			"    \"fsync_threshold_exceed_count\" : 0,\n    \"client_response_stats\" : {\n" +
			"      \"last_buffer_size\" : -1,\n      \"min_buffer_size\" : -1,\n      \"max_buffer_size\" : -1\n    },\n" +
			"    \"data_dir_size\" : 457,\n    \"log_dir_size\" : 67109337,\n    \"provider_null\" : false,\n" +
			"    \"server_state\" : \"standalone\",\n    \"last_processed_zxid\" : 26,\n" +
			"    \"outstanding_requests\" : 0,\n    \"avg_latency\" : 5.375,\n    \"max_latency\" : 72,\n" +
			"    \"min_latency\" : 0,\n    \"num_alive_client_connections\" : 2,\n    \"uptime\" : 21142,\n" +
			"    \"auth_failed_count\" : 0,\n    \"non_mtlsremote_conn_count\" : 0,\n    \"non_mtlslocal_conn_count\" : 0\n" +
			"  },\n  \"client_response\" : {\n    \"last_buffer_size\" : -1,\n    \"min_buffer_size\" : -1,\n" +
			"    \"max_buffer_size\" : -1\n  },\n  \"node_count\" : 9,\n  \"command\" : \"server_stats\",\n  \"error\" : null\n}",
	}
	for path, want := range cases {
		code, hdr, body := get(t, base+"/commands/"+path)
		if code != 200 || hdr.Get("Content-Type") != "application/json" {
			t.Errorf("%s: status %d, content type %q", path, code, hdr.Get("Content-Type"))
		}
		if body != want {
			t.Errorf("%s:\n got %q\nwant %q", path, body, want)
		}
	}
}

func TestAdminServerAliasesAndList(t *testing.T) {
	f := newFake()
	base := startAdmin(t, f)
	aliases := map[string]string{
		"srvr": "server_stats", "stat": "stats", "conf": "configuration", "config": "configuration",
		"cons": "connections", "envi": "environment", "env": "environment", "isro": "is_read_only",
		"mntr": "monitor", "srst": "stat_reset", "crst": "connection_stat_reset", "wchc": "watches",
		"wchp": "watches_by_path", "wchs": "watch_summary", "lsnp": "last_snapshot", "gtmk": "get_trace_mask",
		"icfg": "initial_configuration", "sysp": "system_properties", "lead": "leader", "obsr": "observers",
		"orst": "observer_connection_stat_reset",
	}
	for alias, primary := range aliases {
		_, _, body := get(t, base+"/commands/"+alias)
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("%s: %v in %q", alias, err, body)
		}
		if m["command"] != primary {
			t.Errorf("%s: command %v, want %s", alias, m["command"], primary)
		}
	}
	if f.resets != 1 || f.cresets != 1 {
		t.Errorf("srst/crst must reset: %d %d", f.resets, f.cresets)
	}

	code, hdr, body := get(t, base+"/commands")
	if code != 200 || hdr.Get("Content-Type") != "" {
		t.Errorf("list: %d %q", code, hdr.Get("Content-Type"))
	}
	if !strings.HasPrefix(body, "<a href=\"/commands/configuration\">configuration</a>\n<br/>\n"+
		"<a href=\"/commands/connection_stat_reset\">connection_stat_reset</a>\n<br/>\n") ||
		!strings.HasSuffix(body, "<a href=\"/commands/zabstate\">zabstate</a>\n<br/>\n") || // 1424 bytes as Apache 3.8.0

		strings.Count(body, "<br/>") != 26 || len(body) != 1424 {
		t.Errorf("list body: %q", body)
	}
	if code, _, _ := get(t, base+"/"); code != 404 {
		t.Errorf("/: %d", code)
	}
	resp, err := http.Post(base+"/commands/ruok", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST: %d", resp.StatusCode)
	}

	// monitor answers typed numbers, the same list as mntr.
	_, _, body = get(t, base+"/commands/monitor")
	if !strings.Contains(body, "\"avg_latency\" : 5.375,\n  \"outstanding_requests\" : 0,") ||
		!strings.Contains(body, "\"connection_drop_probability\" : 0.0,") ||
		!strings.HasPrefix(body, "{\n  \"version\" : \"3.8.0-zkafka, built on 2026-11-22 02:55 UTC\",\n  \"server_state\" : \"standalone\",") {
		t.Errorf("monitor: %.400q", body)
	}
	_, _, body = get(t, base+"/commands/lsnp")
	if body != "{\n  \"zxid\" : \"ffffffffffffffff\",\n  \"timestamp\" : -1,\n  \"command\" : \"last_snapshot\",\n  \"error\" : null\n}" {
		t.Errorf("lsnp: %q", body)
	}
}

func TestAdminServerNotServing(t *testing.T) {
	f := newFake()
	f.serving = false
	base := startAdmin(t, f)
	_, _, body := get(t, base+"/commands/srvr")
	if want := "{\n  \"command\" : \"srvr\",\n  \"error\" : \"" + notServing + "\"\n}"; body != want {
		t.Errorf("srvr not serving: %q", body)
	}
	if _, _, body := get(t, base+"/commands/envi"); !strings.Contains(body, "\"error\" : null") {
		t.Errorf("envi must answer when not serving: %q", body)
	}
}

func TestJacksonEscapes(t *testing.T) {
	got := jacksonJSON(jobj{{"k", "a\"b\\c\n\t\x01/é"}})
	if want := "{\n  \"k\" : \"a\\\"b\\\\c\\n\\t\\u0001/é\"\n}"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}
