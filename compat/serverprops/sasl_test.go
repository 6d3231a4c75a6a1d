package serverprops

import (
	"reflect"
	"testing"
)

func TestJVMSystemProperties(t *testing.T) {
	got := JVMSystemProperties(`-Xmx1G -Djava.security.auth.login.config=/etc/kafka/jaas.conf "-Dquoted=a b" -Dflag -D`)
	want := map[string]string{JavaLoginConfig: "/etc/kafka/jaas.conf", "quoted": "a b", "flag": ""}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
}

func TestListenerSaslConfigs(t *testing.T) {
	c, err := FromMap(map[string]string{
		"zookeeper.connect":         "zk:2181",
		"log.dirs":                  "/tmp/x",
		"listeners":                 "PLAINTEXT://:9092,SASL_PLAINTEXT://:9093",
		"sasl.enabled.mechanisms":   "GSSAPI",
		"connections.max.reauth.ms": "1000",
		"listener.name.sasl_plaintext.sasl.enabled.mechanisms":         "PLAIN, SCRAM-SHA-256",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config":          "x.Y required;",
		"listener.name.sasl_plaintext.connections.max.reauth.ms":       "2000",
		"listener.name.sasl_plaintext.plain.connections.max.reauth.ms": "3000",
		"listener.name.sasl_plaintext.sasl.server.max.receive.size":    "4096",
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := c.ListenerSaslMechanisms("SASL_PLAINTEXT"); !reflect.DeepEqual(m, []string{"PLAIN", "SCRAM-SHA-256"}) {
		t.Errorf("mechanisms %v", m)
	}
	if m := c.ListenerSaslMechanisms("PLAINTEXT"); !reflect.DeepEqual(m, []string{"GSSAPI"}) {
		t.Errorf("default mechanisms %v", m)
	}
	if v, ok := c.ListenerJaasConfig("SASL_PLAINTEXT", "PLAIN"); !ok || v != "x.Y required;" {
		t.Errorf("jaas %q %v", v, ok)
	}
	if _, ok := c.ListenerJaasConfig("SASL_PLAINTEXT", "SCRAM-SHA-256"); ok {
		t.Error("jaas for SCRAM")
	}
	for _, x := range []struct {
		l, m string
		want int64
	}{{"SASL_PLAINTEXT", "PLAIN", 3000}, {"SASL_PLAINTEXT", "SCRAM-SHA-256", 2000}, {"PLAINTEXT", "PLAIN", 1000}} {
		if n, err := c.ListenerMaxReauthMs(x.l, x.m); err != nil || n != x.want {
			t.Errorf("%s/%s reauth %d %v, want %d", x.l, x.m, n, err, x.want)
		}
	}
	if n, err := c.ListenerSaslMaxReceiveSize("SASL_PLAINTEXT"); err != nil || n != 4096 {
		t.Errorf("max receive %d %v", n, err)
	}
	if n, _ := c.ListenerSaslMaxReceiveSize("PLAINTEXT"); n != 524288 {
		t.Errorf("default max receive %d", n)
	}

	ssl, err := FromMap(map[string]string{"zookeeper.connect": "zk:2181", "log.dirs": "/tmp/x",
		"listeners":                      "PLAINTEXT://:9092,SSL://:9093,INTERNAL://:9094",
		"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SSL:SSL,INTERNAL:SASL_SSL",
		"ssl.keystore.location":          "/k.jks", "ssl.keystore.password": "pw",
		"ssl.cipher.suites":                            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
		"listener.name.internal.ssl.keystore.type":     "PKCS12",
		"listener.name.internal.ssl.keystore.location": "/internal.p12",
		"listener.name.internal.ssl.client.auth":       "required",
		"listener.name.internal.ssl.enabled.protocols": "TLSv1.3",
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := ssl.ListenerSSL("SSL")
	want := SSLSettings{Protocol: "TLSv1.3", EnabledProtocols: []string{"TLSv1.2", "TLSv1.3"},
		CipherSuites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, KeystoreType: "JKS",
		KeystoreLocation: "/k.jks", KeystorePassword: "pw", TruststoreType: "JKS", ClientAuth: "none",
		EndpointIdentification: "https", PrincipalMappingRules: "DEFAULT"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SSL listener:\n got %+v\nwant %+v", got, want)
	}
	want.KeystoreType, want.KeystoreLocation, want.ClientAuth = "PKCS12", "/internal.p12", "required"
	want.EnabledProtocols = []string{"TLSv1.3"}
	if got := ssl.ListenerSSL("INTERNAL"); !reflect.DeepEqual(got, want) {
		t.Errorf("INTERNAL listener:\n got %+v\nwant %+v", got, want)
	}
}
