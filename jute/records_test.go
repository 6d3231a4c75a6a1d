package jute

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// allRecords builds an empty value of every record in records.def;
// TestAllRecordsListed keeps it complete.
var allRecords = map[string]func() Record{
	"Id":                           func() Record { return &Id{} },
	"ACL":                          func() Record { return &ACL{} },
	"Stat":                         func() Record { return &Stat{} },
	"StatPersisted":                func() Record { return &StatPersisted{} },
	"ClientInfo":                   func() Record { return &ClientInfo{} },
	"ConnectRequest":               func() Record { return &ConnectRequest{} },
	"ConnectResponse":              func() Record { return &ConnectResponse{} },
	"RequestHeader":                func() Record { return &RequestHeader{} },
	"ReplyHeader":                  func() Record { return &ReplyHeader{} },
	"MultiHeader":                  func() Record { return &MultiHeader{} },
	"AuthPacket":                   func() Record { return &AuthPacket{} },
	"WatcherEvent":                 func() Record { return &WatcherEvent{} },
	"ErrorResponse":                func() Record { return &ErrorResponse{} },
	"CreateRequest":                func() Record { return &CreateRequest{} },
	"CreateTTLRequest":             func() Record { return &CreateTTLRequest{} },
	"CreateResponse":               func() Record { return &CreateResponse{} },
	"Create2Response":              func() Record { return &Create2Response{} },
	"DeleteRequest":                func() Record { return &DeleteRequest{} },
	"ExistsRequest":                func() Record { return &ExistsRequest{} },
	"ExistsResponse":               func() Record { return &ExistsResponse{} },
	"GetDataRequest":               func() Record { return &GetDataRequest{} },
	"GetDataResponse":              func() Record { return &GetDataResponse{} },
	"SetDataRequest":               func() Record { return &SetDataRequest{} },
	"SetDataResponse":              func() Record { return &SetDataResponse{} },
	"GetACLRequest":                func() Record { return &GetACLRequest{} },
	"GetACLResponse":               func() Record { return &GetACLResponse{} },
	"SetACLRequest":                func() Record { return &SetACLRequest{} },
	"SetACLResponse":               func() Record { return &SetACLResponse{} },
	"GetChildrenRequest":           func() Record { return &GetChildrenRequest{} },
	"GetChildrenResponse":          func() Record { return &GetChildrenResponse{} },
	"GetChildren2Request":          func() Record { return &GetChildren2Request{} },
	"GetChildren2Response":         func() Record { return &GetChildren2Response{} },
	"SyncRequest":                  func() Record { return &SyncRequest{} },
	"SyncResponse":                 func() Record { return &SyncResponse{} },
	"CheckVersionRequest":          func() Record { return &CheckVersionRequest{} },
	"ReconfigRequest":              func() Record { return &ReconfigRequest{} },
	"CheckWatchesRequest":          func() Record { return &CheckWatchesRequest{} },
	"RemoveWatchesRequest":         func() Record { return &RemoveWatchesRequest{} },
	"SetWatches":                   func() Record { return &SetWatches{} },
	"SetWatches2":                  func() Record { return &SetWatches2{} },
	"GetEphemeralsRequest":         func() Record { return &GetEphemeralsRequest{} },
	"GetEphemeralsResponse":        func() Record { return &GetEphemeralsResponse{} },
	"GetAllChildrenNumberRequest":  func() Record { return &GetAllChildrenNumberRequest{} },
	"GetAllChildrenNumberResponse": func() Record { return &GetAllChildrenNumberResponse{} },
	"AddWatchRequest":              func() Record { return &AddWatchRequest{} },
	"WhoAmIResponse":               func() Record { return &WhoAmIResponse{} },
	"GetSASLRequest":               func() Record { return &GetSASLRequest{} },
	"SetSASLResponse":              func() Record { return &SetSASLResponse{} },
	"TxnHeader":                    func() Record { return &TxnHeader{} },
	"TxnDigest":                    func() Record { return &TxnDigest{} },
	"CreateTxn":                    func() Record { return &CreateTxn{} },
	"CreateTTLTxn":                 func() Record { return &CreateTTLTxn{} },
	"CreateContainerTxn":           func() Record { return &CreateContainerTxn{} },
	"DeleteTxn":                    func() Record { return &DeleteTxn{} },
	"SetDataTxn":                   func() Record { return &SetDataTxn{} },
	"SetACLTxn":                    func() Record { return &SetACLTxn{} },
	"CheckVersionTxn":              func() Record { return &CheckVersionTxn{} },
	"ErrorTxn":                     func() Record { return &ErrorTxn{} },
	"CreateSessionTxn":             func() Record { return &CreateSessionTxn{} },
	"CloseSessionTxn":              func() Record { return &CloseSessionTxn{} },
	"Txn":                          func() Record { return &Txn{} },
	"MultiTxn":                     func() Record { return &MultiTxn{} },
	"FileHeader":                   func() Record { return &FileHeader{} },
	"DataNode":                     func() Record { return &DataNode{} },
	"ZxidDigest":                   func() Record { return &ZxidDigest{} },
	"QuorumPacket":                 func() Record { return &QuorumPacket{} },
	"LearnerInfo":                  func() Record { return &LearnerInfo{} },
	"QuorumAuthPacket":             func() Record { return &QuorumAuthPacket{} },
}

func TestAllRecordsListed(t *testing.T) {
	f, err := os.Open("records.def")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "record ")
		if !ok {
			continue
		}
		seen++
		if allRecords[strings.TrimSpace(name)] == nil {
			t.Errorf("record %s is missing from allRecords", name)
		}
	}
	if seen != len(allRecords) {
		t.Errorf("records.def has %d records, allRecords %d", seen, len(allRecords))
	}
}

// filler gives every field a distinct non-zero value so a swapped or skipped
// field shows up as a mismatch.
type filler struct{ n int64 }

func (f *filler) fill(v reflect.Value) {
	f.n++
	switch v.Kind() {
	case reflect.Int32:
		v.SetInt(0x01020300 + f.n)
	case reflect.Int64:
		v.SetInt(-0x0102030405060000 - f.n)
	case reflect.Uint8:
		v.SetUint(uint64(0x80 + f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.String:
		// non-ASCII but inside the BMP, so it round-trips unchanged
		v.SetString("/zk-ü€-" + strings.Repeat("x", int(f.n%5)))
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{byte(f.n), 0, 0xff})
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			f.fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f.fill(v.Field(i))
		}
	default:
		panic("filler: unhandled kind " + v.Kind().String())
	}
}

func filled(mk func() Record) Record {
	r := mk()
	(&filler{}).fill(reflect.ValueOf(r).Elem())
	return r
}

func TestRoundTripAllRecords(t *testing.T) {
	for name, mk := range allRecords {
		in := filled(mk)
		b := Marshal(in)
		out := mk()
		if err := Unmarshal(b, out); err != nil {
			t.Errorf("%s: unmarshal: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(in, out) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", name, out, in)
		}
		if again := Marshal(out); !bytes.Equal(again, b) {
			t.Errorf("%s: re-marshal differs", name)
		}

		// Every strict prefix is a truncated record.
		for n := 0; n < len(b); n++ {
			if err := Unmarshal(b[:n], mk()); !errors.Is(err, ErrShort) {
				t.Errorf("%s: %d of %d bytes: err %v, want ErrShort", name, n, len(b), err)
				break
			}
		}
		if err := Unmarshal(append(b, 0), mk()); err == nil || errors.Is(err, ErrShort) {
			t.Errorf("%s: trailing byte: err %v", name, err)
		}
	}
}

func TestZeroRecordsRoundTrip(t *testing.T) {
	// Zero values: nil buffers go out as -1 and come back nil; nil vectors go
	// out as empty and come back empty.
	for name, mk := range allRecords {
		in := mk()
		out := mk()
		if err := Unmarshal(Marshal(in), out); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(Marshal(out), Marshal(in)) {
			t.Errorf("%s: zero record changed", name)
		}
	}
}

func TestNilVersusEmpty(t *testing.T) {
	nilBuf := Marshal(&SetDataRequest{Path: "/a", Data: nil, Version: 1})
	emptyBuf := Marshal(&SetDataRequest{Path: "/a", Data: []byte{}, Version: 1})
	if want := "000000022f61" + "ffffffff" + "00000001"; hex.EncodeToString(nilBuf) != want {
		t.Fatalf("nil buffer: %x, want %s", nilBuf, want)
	}
	if want := "000000022f61" + "00000000" + "00000001"; hex.EncodeToString(emptyBuf) != want {
		t.Fatalf("empty buffer: %x, want %s", emptyBuf, want)
	}
	var a, b SetDataRequest
	if err := Unmarshal(nilBuf, &a); err != nil || a.Data != nil {
		t.Fatalf("nil buffer decoded as %#v (%v)", a.Data, err)
	}
	if err := Unmarshal(emptyBuf, &b); err != nil || b.Data == nil || len(b.Data) != 0 {
		t.Fatalf("empty buffer decoded as %#v (%v)", b.Data, err)
	}

	// A nil vector is written as an empty one; a -1 count reads back as nil.
	if got := Marshal(&GetChildrenResponse{}); hex.EncodeToString(got) != "00000000" {
		t.Fatalf("nil vector: %x", got)
	}
	var c GetChildrenResponse
	if err := Unmarshal([]byte{0xff, 0xff, 0xff, 0xff}, &c); err != nil || c.Children != nil {
		t.Fatalf("null vector decoded as %#v (%v)", c.Children, err)
	}
	if err := Unmarshal([]byte{0, 0, 0, 0}, &c); err != nil || c.Children == nil || len(c.Children) != 0 {
		t.Fatalf("empty vector decoded as %#v (%v)", c.Children, err)
	}
	var acl GetACLResponse
	if err := Unmarshal(append([]byte{0xff, 0xff, 0xff, 0xff}, Marshal(&Stat{})...), &acl); err != nil || acl.ACL != nil {
		t.Fatalf("null record vector decoded as %#v (%v)", acl.ACL, err)
	}

	// A null string (-1) reads as "".
	var p SyncRequest
	if err := Unmarshal([]byte{0xff, 0xff, 0xff, 0xff}, &p); err != nil || p.Path != "" {
		t.Fatalf("null string: %q %v", p.Path, err)
	}
	// Where null means something else than "" (nstring), both read back as sent.
	nullMembers := Marshal(&ReconfigRequest{CurConfigID: 1})
	if want := "00000000" + "00000000" + "ffffffff" + "0000000000000001"; hex.EncodeToString(nullMembers) != want {
		t.Fatalf("null newMembers: %x, want %s", nullMembers, want)
	}
	var r ReconfigRequest
	if err := Unmarshal(nullMembers, &r); err != nil || r.NewMembers != nil {
		t.Fatalf("null newMembers decoded as %v (%v)", r.NewMembers, err)
	}
	emptyMembers := Marshal(&ReconfigRequest{NewMembers: new(""), CurConfigID: 1})
	if err := Unmarshal(emptyMembers, &r); err != nil || r.NewMembers == nil || *r.NewMembers != "" {
		t.Fatalf("empty newMembers decoded as %v (%v)", r.NewMembers, err)
	}
}

func TestCESU8Strings(t *testing.T) {
	cases := []struct {
		in   string
		want string // hex of the length-prefixed encoding
	}{
		{"", "00000000"},
		{"abc", "00000003616263"},
		{"ü", "00000002c3bc"},
		{"€", "00000003e282ac"},
		// U+1F600 = D83D DE00: two 3-byte surrogates, not one 4-byte sequence
		{"😀", "00000006eda0bdedb880"},
		{"a😀b", "0000000861eda0bdedb88062"},
		// U+10000 and U+10FFFF, the ends of the supplementary range
		{"\U00010000", "00000006eda080edb080"},
		{"\U0010FFFF", "00000006edafbfedbfbf"},
	}
	for _, c := range cases {
		var e Encoder
		e.String(c.in)
		if got := hex.EncodeToString(e.Buf); got != c.want {
			t.Errorf("String(%q) = %s, want %s", c.in, got, c.want)
		}
		// Decoding keeps the wire bytes; encoding them again is byte-stable.
		d := NewDecoder(e.Buf)
		s := d.String()
		if d.Err() != nil {
			t.Fatalf("decode %q: %v", c.in, d.Err())
		}
		var e2 Encoder
		e2.String(s)
		if !bytes.Equal(e2.Buf, e.Buf) {
			t.Errorf("re-encoding %q changed the bytes: %x", c.in, e2.Buf)
		}
	}
	// The surrogate encoding applies inside records too.
	b := Marshal(&Id{Scheme: "digest", ID: "😀"})
	if len(b) != 4+6+4+6 {
		t.Fatalf("Id with a non-BMP rune is %d bytes", len(b))
	}
}

func TestDecoderLimits(t *testing.T) {
	// A length over Max fails before the bytes are even looked for.
	d := NewDecoder([]byte{0, 0, 0, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	d.Max = 10
	if b := d.Buffer(); b != nil || d.Err() == nil || errors.Is(d.Err(), ErrShort) {
		t.Fatalf("over-limit buffer: %v %v", b, d.Err())
	}
	d = NewDecoder([]byte{0, 0, 0, 11, 'a', 'b'})
	d.Max = 10
	if s := d.String(); s != "" || d.Err() == nil {
		t.Fatalf("over-limit string: %q %v", s, d.Err())
	}
	// Errors are sticky.
	if d.Int() != 0 || d.Long() != 0 || d.Bool() || d.Byte() != 0 || d.Buffer() != nil || d.Strings() != nil {
		t.Fatal("reads after an error returned data")
	}

	// Huge claimed lengths must not be allocated.
	huge := []byte{0x7f, 0xff, 0xff, 0xff, 1, 2, 3}
	allocs := allocated(func() {
		var s SetDataRequest
		if err := Unmarshal(append([]byte{0, 0, 0, 1, '/'}, huge...), &s); err == nil {
			t.Error("huge buffer accepted")
		}
		d := NewDecoder(huge)
		d.Max = 0 // unlimited: the missing bytes still stop it
		if d.Buffer() != nil || !errors.Is(d.Err(), ErrShort) {
			t.Errorf("unlimited huge buffer: %v", d.Err())
		}
	})
	if allocs > 1<<20 {
		t.Fatalf("decoding a huge length allocated %d bytes", allocs)
	}

	// A vector count larger than the bytes left fails at once, before the
	// elements are allocated (a million ACLs would be ~40 MB).
	var e Encoder
	e.String("/a")
	e.Buffer(nil)
	e.Int(1_000_000)
	e.Int(31)
	allocs = allocated(func() {
		var c CreateRequest
		if err := Unmarshal(e.Buf, &c); !errors.Is(err, ErrShort) {
			t.Errorf("lying vector count: %v", err)
		}
		var w GetChildrenResponse
		if err := Unmarshal([]byte{0, 0x0f, 0xff, 0xff, 0, 0, 0, 0}, &w); !errors.Is(err, ErrShort) {
			t.Errorf("lying string vector count: %v", err)
		}
	})
	if allocs > 1<<20 {
		t.Fatalf("lying vector count allocated %d bytes", allocs)
	}

	// Negative lengths other than -1 are errors.
	for _, f := range []func(*Decoder){
		func(d *Decoder) { d.Buffer() },
		func(d *Decoder) { _ = d.String() },
		func(d *Decoder) { d.VectorLen() },
	} {
		d := NewDecoder([]byte{0xff, 0xff, 0xff, 0xfe, 0, 0})
		f(d)
		if d.Err() == nil {
			t.Error("length -2 accepted")
		}
	}

	// Truncated primitives.
	for n := 0; n < 8; n++ {
		d := NewDecoder(make([]byte, n))
		d.Long()
		if n < 8 && !errors.Is(d.Err(), ErrShort) {
			t.Errorf("long from %d bytes: %v", n, d.Err())
		}
	}
}

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestDecoderAccessors(t *testing.T) {
	d := NewDecoder([]byte{0, 0, 0, 7, 1, 2})
	if d.Int() != 7 || d.Offset() != 4 || d.Remaining() != 2 || !bytes.Equal(d.Rest(), []byte{1, 2}) {
		t.Fatal("offset bookkeeping")
	}
	d.Fail(errors.New("first"))
	d.Fail(errors.New("second"))
	if d.Err().Error() != "first" {
		t.Fatalf("sticky error: %v", d.Err())
	}
}

func TestGoldenBytes(t *testing.T) {
	cases := []struct {
		name string
		rec  Record
		hex  string
		size int
	}{
		{"ConnectRequest", &ConnectRequest{ProtocolVersion: 0, LastZxidSeen: 0x1122, TimeOut: 30000, SessionID: 0x0100000001230000, Passwd: make([]byte, 16)},
			"00000000" + "0000000000001122" + "00007530" + "0100000001230000" + "00000010" + "00000000000000000000000000000000", 44},
		{"ConnectResponse", &ConnectResponse{ProtocolVersion: 0, TimeOut: 4000, SessionID: -1, Passwd: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
			"00000000" + "00000fa0" + "ffffffffffffffff" + "00000010" + "0102030405060708090a0b0c0d0e0f10", 36},
		{"Stat", &Stat{Czxid: 1, Mzxid: 2, Ctime: 3, Mtime: 4, Version: 5, Cversion: 6, Aversion: 7, EphemeralOwner: 8, DataLength: 9, NumChildren: 10, Pzxid: 11},
			"0000000000000001" + "0000000000000002" + "0000000000000003" + "0000000000000004" + "00000005" + "00000006" + "00000007" + "0000000000000008" + "00000009" + "0000000a" + "000000000000000b", 68},
		{"ReplyHeader", &ReplyHeader{Xid: -2, Zxid: 0x100000005, Err: int32(ErrNoNode)},
			"fffffffe" + "0000000100000005" + "ffffff9b", 16},
		{"RequestHeader", &RequestHeader{Xid: -4, Type: OpAuth}, "fffffffc00000064", 8},
		{"AuthPacket", &AuthPacket{Type: 0, Scheme: "digest", Auth: []byte("a:b")},
			"00000000" + "00000006" + hex.EncodeToString([]byte("digest")) + "00000003" + hex.EncodeToString([]byte("a:b")), 21},
		{"MultiHeader", &MultiHeader{Type: -1, Done: true, Err: -1}, "ffffffff01ffffffff", 9},
		{"CreateRequest", &CreateRequest{Path: "/a", Data: []byte("x"), ACL: OpenACLUnsafe, Flags: ModeEphemeral},
			"000000022f61" + "0000000178" + "00000001" + "0000001f" + "00000005" + hex.EncodeToString([]byte("world")) + "00000006" + hex.EncodeToString([]byte("anyone")) + "00000001", 42},
	}
	for _, c := range cases {
		got := Marshal(c.rec)
		if len(got) != c.size {
			t.Errorf("%s: %d bytes, want %d", c.name, len(got), c.size)
		}
		if hex.EncodeToString(got) != c.hex {
			t.Errorf("%s: %x\nwant %s", c.name, got, c.hex)
		}
		out := reflect.New(reflect.TypeOf(c.rec).Elem()).Interface().(Record)
		if err := Unmarshal(got, out); err != nil || !reflect.DeepEqual(out, c.rec) {
			t.Errorf("%s: decode %+v %v", c.name, out, err)
		}
	}
}

func TestBoolReadsNonZeroAsTrue(t *testing.T) {
	var r ExistsRequest
	if err := Unmarshal([]byte{0, 0, 0, 1, '/', 7}, &r); err != nil || !r.Watch {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestErrNames(t *testing.T) {
	if ErrNoNode.Error() != "NoNode" || ErrAuthFailed.Error() != "AuthFailed" || Err(-9999).Error() != "UnknownError" {
		t.Fatal("error names")
	}
}
