package admin

import (
	"strconv"
	"strings"
	"time"
)

// javaDateLayout is java.util.Date.toString's format.
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// javaHex is Long.toHexString: two's complement for negatives, no padding.
func javaHex(v int64) string { return strconv.FormatUint(uint64(v), 16) }

// legacyBuildDate rewrites "…, built on 2026-11-22 02:55 UTC" (Apache 3.7+)
// into the 3.5/3.6 form "…, built on 11/22/2026 02:55 GMT" that go-zookeeper's
// FLWSrvr regex requires. Other shapes are returned unchanged.
func legacyBuildDate(version string) string {
	head, date, ok := strings.Cut(version, ", built on ")
	if !ok {
		return version
	}
	fields := strings.Fields(date)
	if len(fields) < 2 {
		return version
	}
	t, err := time.Parse("2006-01-02 15:04", fields[0]+" "+fields[1])
	if err != nil {
		return version
	}
	if len(fields) >= 3 {
		// Shift to GMT when the zone is a known numeric offset or name.
		if loc, err := time.LoadLocation(fields[2]); err == nil {
			t, _ = time.ParseInLocation("2006-01-02 15:04", fields[0]+" "+fields[1], loc)
			t = t.UTC()
		}
	}
	return head + ", built on " + t.Format("01/02/2006 15:04") + " GMT"
}
