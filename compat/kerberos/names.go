package kerberos

import (
	"context"
	"strings"

	"github.com/jcmturner/gokrb5/v8/config"

	"github.com/zkafka/zkafka/compat/javanet"
)

// ServiceHostName is the host of a host-based service name (service@host, KRB_NT_SRV_HST) as the JDK's
// PrincipalName makes it: unless krb5.conf's dns_canonicalize_hostname is false, the host's first address's
// canonical name replaces it when it extends it ("zk" to "zk.example.com", not "zk" to "other.example.com"; an
// unknown host stays), and a trailing dot goes; then the whole is lower-cased.
func ServiceHostName(ctx context.Context, r javanet.Resolver, conf *config.Config, host string) string {
	if conf.LibDefaults.DNSCanonicalizeHostname {
		if ip := javanet.FirstAddress(ctx, r, host); ip != nil {
			canon := javanet.CanonicalHostName(ctx, r, ip)
			if strings.HasPrefix(strings.ToLower(canon), strings.ToLower(host)+".") {
				host = canon
			}
		}
		host = strings.TrimSuffix(host, ".")
	}
	return strings.ToLower(host)
}
