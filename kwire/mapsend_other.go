//go:build !linux

package kwire

// mapRegion is Linux's; elsewhere regions go out with sendfile.
func mapRegion(*FileRegion) (mapping, data []byte, ok bool, err error) { return nil, nil, false, nil }

func unmapRegion([]byte) {}
