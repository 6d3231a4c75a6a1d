package zoocfg

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javastr"
)

// DynamicFileName is QuorumPeer.makeDynamicConfigFilename: the static config file's name with
// ".dynamic.<hex version>".
func DynamicFileName(configFile string, version int64) string {
	return configFile + ".dynamic." + strconv.FormatInt(version, 16)
}

// NextDynamicFileName is the file a proposed config is written to until it commits (the ".next" file).
func NextDynamicFileName(configFile string) string { return configFile + ".dynamic.next" }

// DynamicFileText is what QuorumPeerConfig.writeDynamicConfig writes for q: its toString's lines trimmed and
// sorted as strings, joined by newlines with none at the end; the version line only with keepVersion (the
// ".next" file keeps it, a committed file has it in its name).
func DynamicFileText(q *QuorumVerifier, keepVersion bool) (string, error) {
	props, err := ParseProperties(strings.NewReader(q.String()))
	if err != nil {
		return "", fmt.Errorf("dynamic config text: %w", err)
	}
	var lines []string
	for _, p := range dedupe(props) {
		key := javastr.Trim(p.Key)
		if !keepVersion && strings.HasPrefix(key, "version") {
			continue
		}
		lines = append(lines, key+"="+javastr.Trim(p.Value))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n"), nil
}

// EditedStaticConfig is the zoo.cfg QuorumPeerConfig.editStaticConfig writes from the static file's entries:
// membership keys (server.*, group*, weight*), dynamicConfigFile and peerType dropped, and clientPort* too with
// eraseClientPort, the rest trimmed in java.util.Properties' order, then dynamicConfigFile=<dynamicPath>.
// dynamicPath must already be canonical, as Apache writes the file's canonical path.
func EditedStaticConfig(static []Property, dynamicPath string, eraseClientPort bool) string {
	var b strings.Builder
	for _, p := range javaPropertiesOrder(static) {
		key := javastr.Trim(p.Key)
		if droppedFromStatic(key, eraseClientPort) {
			continue
		}
		b.WriteString(key + "=" + javastr.Trim(p.Value) + "\n")
	}
	b.WriteString("dynamicConfigFile=" + dynamicPath + "\n")
	return b.String()
}

func droppedFromStatic(key string, eraseClientPort bool) bool {
	for _, prefix := range []string{"server.", "group", "weight", "dynamicConfigFile", "peerType"} {
		if strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return eraseClientPort && strings.HasPrefix(key, "clientPort")
}
