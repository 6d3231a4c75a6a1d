// Package kdctest runs a real MIT Kerberos KDC (Debian's krb5-kdc) for tests: a realm of its own in a temporary
// directory, listening on one loopback port, with principals and keytabs made by kadmin.local.
package kdctest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Realm is the test realm.
const Realm = "EXAMPLE.COM"

// KDC is a running krb5kdc.
type KDC struct {
	Dir string
	// Realms are the realms the KDC serves, the first the default one.
	Realms []string
	// Krb5Conf is a client configuration for the realm (java.security.krb5.conf, KRB5_CONFIG).
	Krb5Conf string
	Addr     string
	env      []string
}

// Start runs a KDC until the test ends. Without Debian's krb5-kdc and krb5-admin-server the test is skipped,
// except in CI, where .ci/deps installs them.
func Start(t testing.TB) *KDC {
	t.Helper()
	return StartRealms(t, Realm)
}

// StartRealms runs one KDC serving every realm (each with its own database), on one port, with cross-realm
// ticket-granting principals (krbtgt/B@A and krbtgt/A@B) between each pair, so a client of one realm gets
// tickets for services of the others through its own realm's KDC. Krb5Conf's default realm is the first and its
// [domain_realm] maps localhost to it only when there is one realm: with several, a test writes the client
// configuration it needs (ClientConf). The KDC itself has no [domain_realm], so it answers no referrals.
func StartRealms(t testing.TB, realms ...string) *KDC {
	t.Helper()
	for _, bin := range []string{"krb5kdc", "kdb5_util", "kadmin.local"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + bin); err2 != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("missing in CI (.ci/deps installs krb5-kdc, krb5-admin-server): %v", err)
				}
				t.Skipf("skipping: no %s (run .ci/deps)", bin)
			}
		}
	}
	dir := t.TempDir()
	port := freePort(t)
	k := &KDC{Dir: dir, Realms: realms, Krb5Conf: filepath.Join(dir, "krb5.conf"), Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	kdcConf := filepath.Join(dir, "kdc.conf")
	k.env = append(os.Environ(), "KRB5_CONFIG="+k.Krb5Conf, "KRB5_KDC_PROFILE="+kdcConf,
		"PATH="+os.Getenv("PATH")+":/usr/sbin")
	mapping := map[string]string{}
	if len(realms) == 1 {
		mapping["localhost"] = realms[0]
	}
	write(t, k.Krb5Conf, k.conf(realms[0], mapping))
	write(t, kdcConf, kdcConfig(realms, k.Addr, dir))
	write(t, filepath.Join(dir, "kadm5.acl"), "")
	args := []string{"-n"}
	for _, r := range realms {
		k.run(t, "kdb5_util", "create", "-s", "-r", r, "-P", "master-secret")
		args = append(args, "-r", r)
	}
	for _, a := range realms {
		for _, b := range realms {
			if a != b { // the same key in both realms' databases
				k.run(t, "kadmin.local", "-r", a, "-q", fmt.Sprintf("addprinc -pw cross-secret krbtgt/%s@%s", b, a))
				k.run(t, "kadmin.local", "-r", b, "-q", fmt.Sprintf("addprinc -pw cross-secret krbtgt/%s@%s", b, a))
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "krb5kdc", args...)
	cmd.Env = k.env
	out, err := os.Create(filepath.Join(dir, "krb5kdc.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start krb5kdc: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait(); out.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", k.Addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "krb5kdc.out"))
			t.Fatalf("krb5kdc does not listen on %s: %v\n%s", k.Addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return k
}

// AddUser adds a principal with a password (in the realm its name ends with, else the default one).
func (k *KDC) AddUser(t testing.TB, principal, password string) {
	t.Helper()
	k.run(t, "kadmin.local", "-r", k.realmOf(principal), "-q", fmt.Sprintf("addprinc -pw %s %s", password, principal))
}

// AddService adds a principal with random keys and writes them to a keytab file, which it returns.
func (k *KDC) AddService(t testing.TB, principal string) string {
	t.Helper()
	r := k.realmOf(principal)
	k.run(t, "kadmin.local", "-r", r, "-q", "addprinc -randkey "+principal)
	path := filepath.Join(k.Dir, strings.NewReplacer("/", "_", "@", "_").Replace(principal)+".keytab")
	k.run(t, "kadmin.local", "-r", r, "-q", fmt.Sprintf("ktadd -k %s %s", path, principal))
	return path
}

// ClientConf writes a client Kerberos configuration (java.security.krb5.conf) named name in the KDC's directory:
// every realm at this KDC, defaultRealm the default one, and [domain_realm] host = realm lines of mapping.
func (k *KDC) ClientConf(t testing.TB, name, defaultRealm string, mapping map[string]string) string {
	t.Helper()
	path := filepath.Join(k.Dir, name)
	write(t, path, k.conf(defaultRealm, mapping))
	return path
}

// conf is a krb5.conf for every realm of the KDC.
func (k *KDC) conf(defaultRealm string, mapping map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `[libdefaults]
 default_realm = %s
 dns_lookup_kdc = false
 dns_lookup_realm = false
 rdns = false
 dns_canonicalize_hostname = false
 udp_preference_limit = 1
 ticket_lifetime = 24h
 forwardable = true

[realms]
`, defaultRealm)
	for _, r := range k.Realms {
		fmt.Fprintf(&b, " %s = {\n  kdc = %s\n }\n", r, k.Addr)
	}
	b.WriteString("\n[domain_realm]\n")
	hosts := make([]string, 0, len(mapping))
	for h := range mapping {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		fmt.Fprintf(&b, " %s = %s\n", h, mapping[h])
	}
	return b.String()
}

// kdcConfig is the KDC profile: one database per realm in dir.
func kdcConfig(realms []string, addr, dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[kdcdefaults]\n kdc_listen = %[1]s\n kdc_tcp_listen = %[1]s\n\n[realms]\n", addr)
	for _, r := range realms {
		fmt.Fprintf(&b, ` %[1]s = {
  database_name = %[2]s/principal-%[1]s
  key_stash_file = %[2]s/stash-%[1]s
  acl_file = %[2]s/kadm5.acl
  max_life = 24h
  max_renewable_life = 7d
  master_key_type = aes256-cts-hmac-sha1-96
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
 }
`, r, dir)
	}
	fmt.Fprintf(&b, "\n[logging]\n kdc = FILE:%s/kdc.log\n", dir)
	return b.String()
}

// realmOf is the realm a principal names, else the default realm.
func (k *KDC) realmOf(principal string) string {
	if _, r, ok := strings.Cut(principal, "@"); ok {
		return r
	}
	return k.Realms[0]
}

// Env is the environment for MIT tools and clients (kinit, kcat, python gssapi) using this realm.
func (k *KDC) Env() []string { return append([]string(nil), k.env...) }

func (k *KDC) run(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = k.env
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "error") {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func write(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// JaasSection is a JAAS login context with a Krb5LoginModule that logs in as principal with the keys of keytab,
// as the Kafka and ZooKeeper documentation writes it.
func JaasSection(name, keytab, principal string) string {
	return fmt.Sprintf("%s {\n  com.sun.security.auth.module.Krb5LoginModule required\n  useKeyTab=true\n"+
		"  storeKey=true\n  keyTab=\"%s\"\n  principal=\"%s\";\n};\n", name, keytab, principal)
}
