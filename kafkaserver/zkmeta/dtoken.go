package zkmeta

// DelegationTokenJSON is the content of /delegation_token/tokens/<id> (DelegationTokenInfoZNode), principals
// already sanitized.
type DelegationTokenJSON struct {
	Owner                                         string
	Renewers                                      []string
	IssueTimestamp, MaxTimestamp, ExpiryTimestamp int64
	TokenID                                       string
}

// Encode writes the version 1 JSON as DelegationTokenInfoZNode.encode: toJsonCompatibleMap's seven keys go
// through a Scala immutable Map, so they come in its hash order; renewers keep their order.
func (t DelegationTokenJSON) Encode() []byte {
	w := &jw{}
	keys := []string{"version", "owner", "renewers", "issueTimestamp", "maxTimestamp", "expiryTimestamp", "tokenId"}
	w.object(scalaImmutableOrder(keys), func(k string) {
		switch k {
		case "version":
			w.int(1)
		case "owner":
			w.str(t.Owner)
		case "renewers":
			w.raw("[")
			for i, r := range t.Renewers {
				if i > 0 {
					w.raw(",")
				}
				w.str(r)
			}
			w.raw("]")
		case "issueTimestamp":
			w.int(t.IssueTimestamp)
		case "maxTimestamp":
			w.int(t.MaxTimestamp)
		case "expiryTimestamp":
			w.int(t.ExpiryTimestamp)
		case "tokenId":
			w.str(t.TokenID)
		}
	})
	return w.b
}
