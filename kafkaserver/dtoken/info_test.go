package dtoken

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"reflect"
	"testing"
)

// TestInfoJSON: DelegationTokenInfoZNode's JSON byte for byte (the key order of Kafka's Scala immutable Map:
// version and maxTimestamp share the trie's first level slot, so they come last), principals sanitized, and back.
func TestInfoJSON(t *testing.T) {
	i := Info{TokenID: "abc_-1", Owner: "User:al ice*", Renewers: []string{"User:bob", "User:c:d"}, IssueTimestamp: 1,
		MaxTimestamp: 3, ExpiryTimestamp: 2}
	got := string(EncodeInfo(i))
	want := `{"issueTimestamp":1,"renewers":["User%3Abob","User%3Ac%3Ad"],"tokenId":"abc_-1","owner":"User%3Aal%20ice%2A",` +
		`"expiryTimestamp":2,"maxTimestamp":3,"version":1}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	back, err := DecodeInfo([]byte(got))
	if err != nil || !reflect.DeepEqual(back, i) {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	empty := string(EncodeInfo(Info{TokenID: "x", Owner: "User:a"}))
	if want := `{"issueTimestamp":0,"renewers":[],"tokenId":"x","owner":"User%3Aa","expiryTimestamp":0,"maxTimestamp":0,"version":1}`; empty != want {
		t.Fatalf("no renewers: %s", empty)
	}
	if _, err := DecodeInfo([]byte(`{"version":2,"owner":"User%3Aa","renewers":[],"tokenId":"x"}`)); err == nil {
		t.Fatal("version 2 accepted")
	}
}

// TestHMACAndTokenID: HmacSHA512 of the id under the key; ids are 16 random bytes in unpadded URL-safe base64.
func TestHMACAndTokenID(t *testing.T) {
	m := hmac.New(sha512.New, []byte("key"))
	m.Write([]byte("id"))
	if !hmac.Equal(HMAC("id", "key"), m.Sum(nil)) {
		t.Fatal("HMAC differs")
	}
	id, err := newTokenID()
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 16 || len(id) != 22 || b[6]>>4 != 4 {
		t.Fatalf("token id %q: %v", id, err)
	}
}
