// Package dtoken is Kafka 2.8's delegation tokens (KIP-48) in a ZooKeeper-mode broker: DelegationTokenManager's
// cache, its znodes under /delegation_token and the SCRAM credentials a token logs in with.
package dtoken

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// Znodes of ZkData: token information and change notifications (the token id as data).
const (
	RootPath          = "/delegation_token"
	TokensPath        = RootPath + "/tokens"
	ChangesPath       = RootPath + "/token_changes"
	ChangeSeqPrefix   = "token_change_"
	infoVersion       = 1
	errorTimestamp    = -1 // DelegationTokenManager.ErrorTimestamp
	scramMinIteration = 4096
)

// TokenPath is DelegationTokenInfoZNode.path.
func TokenPath(tokenID string) string { return TokensPath + "/" + tokenID }

// Info is TokenInformation; principals are "Type:name" strings as KafkaPrincipal.toString.
type Info struct {
	TokenID         string
	Owner           string
	Renewers        []string
	IssueTimestamp  int64
	MaxTimestamp    int64
	ExpiryTimestamp int64
}

// OwnerOrRenewer is TokenInformation.ownerOrRenewer.
func (i Info) OwnerOrRenewer(principal string) bool {
	return i.Owner == principal || slices.Contains(i.Renewers, principal)
}

// expired is the test renew, expire and the expiry check share.
func (i Info) expired(nowMs int64) bool { return i.MaxTimestamp < nowMs || i.ExpiryTimestamp < nowMs }

// infoJSON is DelegationTokenInfoZNode's JSON as read; principals are sanitized (URL-encoded).
type infoJSON struct {
	Version         int      `json:"version"`
	Owner           string   `json:"owner"`
	Renewers        []string `json:"renewers"`
	IssueTimestamp  int64    `json:"issueTimestamp"`
	MaxTimestamp    int64    `json:"maxTimestamp"`
	ExpiryTimestamp int64    `json:"expiryTimestamp"`
	TokenID         string   `json:"tokenId"`
}

// EncodeInfo is DelegationTokenInfoZNode.encode, byte for byte (zkmeta writes Kafka's key order).
func EncodeInfo(i Info) []byte {
	j := zkmeta.DelegationTokenJSON{Owner: quota.Sanitize(i.Owner), Renewers: make([]string, 0, len(i.Renewers)),
		IssueTimestamp: i.IssueTimestamp, MaxTimestamp: i.MaxTimestamp, ExpiryTimestamp: i.ExpiryTimestamp, TokenID: i.TokenID}
	for _, r := range i.Renewers {
		j.Renewers = append(j.Renewers, quota.Sanitize(r))
	}
	return j.Encode()
}

// DecodeInfo is DelegationTokenInfoZNode.decode: version 1 only.
func DecodeInfo(b []byte) (Info, error) {
	var j infoJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return Info{}, fmt.Errorf("token info: %w", err)
	}
	if j.Version != infoVersion {
		return Info{}, fmt.Errorf("token info: version %d, want %d", j.Version, infoVersion)
	}
	owner, err := quota.Desanitize(j.Owner)
	if err != nil {
		return Info{}, fmt.Errorf("token info owner: %w", err)
	}
	i := Info{TokenID: j.TokenID, Owner: owner, IssueTimestamp: j.IssueTimestamp, MaxTimestamp: j.MaxTimestamp,
		ExpiryTimestamp: j.ExpiryTimestamp}
	for _, r := range j.Renewers {
		p, err := quota.Desanitize(r)
		if err != nil {
			return Info{}, fmt.Errorf("token info renewer: %w", err)
		}
		i.Renewers = append(i.Renewers, p)
	}
	return i, nil
}
