package zoocfg

import (
	"reflect"
	"testing"
)

func TestParseJVMFlags(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"-Xmx1g -Djute.maxbuffer=4194304 -XX:+UseG1GC", map[string]string{"jute.maxbuffer": "4194304"}},
		{"-Dzookeeper.skipACL", map[string]string{"zookeeper.skipACL": ""}},
		{"  -Da=1\t-Db=x=y \n-Dc= ", map[string]string{"a": "1", "b": "x=y", "c": ""}},
		{`-Dk="a b" -Dq='c "d"' -De=\ x`, map[string]string{"k": "a b", "q": `c "d"`, "e": " x"}},
		{`"-Dwhole=quoted word"`, map[string]string{"whole": "quoted word"}},
		{`-Dx="esc \" \\ \$"`, map[string]string{"x": `esc " \ $`}},
		{"-Da=1 -Da=2", map[string]string{"a": "2"}},
		{"-D -D=v -d a", map[string]string{}},
		{"-Dunterminated='abc", map[string]string{"unterminated": "abc"}},
	}
	for _, tt := range tests {
		if got := ParseJVMFlags(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseJVMFlags(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
