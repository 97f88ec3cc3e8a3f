package shim

import (
	"strings"
	"testing"
)

// FuzzParse: no panic, and the script of a -c invocation is one of the
// arguments, unchanged.
func FuzzParse(f *testing.F) {
	f.Add("-euo\x00pipefail\x00-c\x00ls")
	f.Add("--rcfile\x00x\x00-ilc\x00ls\x00a")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		inv, err := Parse(args)
		if err != nil || inv.Mode != ModeCommand {
			return
		}
		for _, a := range args {
			if a == inv.Script {
				return
			}
		}
		t.Errorf("script %q is none of %q", inv.Script, args)
	})
}
