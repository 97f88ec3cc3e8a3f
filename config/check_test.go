package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every mistake in a config file is an *Error naming the file, the line,
// the key and the fix that applies to that mistake.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		line       int
		key        string
		msg, fix   string // in the message, in the fix
	}{
		{"a duration as a number", "hold_timeout = 90\n", 1, "hold_timeout",
			`hold_timeout must be a duration string such as "30s" or "2m", not the number 90`, `write hold_timeout = "90s"`},
		{"a duration in a section", "[model]\nname = \"m\"\ntimeout = 5\n", 3, "model.timeout",
			"model.timeout must be a duration string", `write timeout = "5s"`},
		{"a duration that is none", "# mine\nhold_timeout = \"ninety\"\n", 2, "hold_timeout",
			`hold_timeout: "ninety" is not a duration`, `such as hold_timeout = "30s"`},
		{"a list as a string", "[rules]\nallow = \"make test\"\n", 2, "rules.allow",
			`rules.allow must be a list of strings, not the string "make test"`, `write allow = ["make test"]`},
		{"a setting outside its section", "backend = \"bwrap\"\nallow = \"make test\"\n", 2, "allow",
			`unknown setting "allow"`, "allow is a setting of [rules]: move it under that section"},
		{"a mistyped section", "backend = \"bwrap\"\n\n[sandbx]\nimage = \"x\"\n", 3, "sandbx",
			"unknown section [sandbx]", "did you mean [sandbox]?"},
		{"a mistyped setting", "[model]\nnmae = \"m\"\n", 2, "model.nmae",
			`unknown setting "model.nmae"`, `did you mean "model.name"?`},
		{"a mistyped dotted setting", "sandbox.imgae = \"x\"\n", 1, "sandbox.imgae",
			`unknown setting "sandbox.imgae"`, `did you mean "sandbox.image"?`},
		{"an unknown setting", "[audit]\nfrobnicate = 1\n", 2, "audit.frobnicate",
			`unknown setting "audit.frobnicate"`, "the settings here are dir, retention_days"},
		{"a mistyped backend", "backend = \"bwarp\"\n", 1, "backend",
			`backend "bwarp" is no sandbox backend; they are docker, podman, bwrap, host`, `did you mean backend = "bwrap"?`},
		{"a bool as a string", "[audit]\nfsync = \"yes\"\n", 2, "audit.fsync",
			`audit.fsync must be true or false, not the string "yes"`, "write fsync = true"},
		{"a string as a number", "[sandbox]\nimage = 3\n", 2, "sandbox.image",
			"sandbox.image must be a string, not the number 3", `write image = "3"`},
		{"a section as a value", "sandbox = \"docker\"\n", 1, "sandbox",
			`sandbox must be a section, not the string "docker"`, "[sandbox] on a line of its own"},
		{"a list of strings with a number", "[sandbox]\nenv = [\"A\", 3]\n", 2, "sandbox.env",
			"sandbox.env must be a list of strings, not a list", `write env = ["..."]`},
		{"a list in an array of tables", "[[remember]]\nproject = \"/p\"\nshape = [\"ls\"]\n[[remember]]\nproject = \"/q\"\nshape = \"ls\"\n", 3, "remember.shape",
			`remember.shape must be a list of strings, not the string "ls"`, `write shape = ["ls"]`},
		{"a mistyped rule key", "[[rules.rate]]\nprefx = \"ls\"\n", 1, "rules.rate",
			`unknown rule key "prefx"; did you mean "prefix"?`, "correct the value of rules.rate"},
		{"TOML syntax", "[rules]\nallow = [\"a\"\n", 2, "",
			"", "correct the TOML syntax on that line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadFile(path)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if ce.Path != path || ce.Line != tt.line || ce.Key != tt.key ||
				!strings.Contains(ce.Msg, tt.msg) || !strings.Contains(ce.Fix, tt.fix) {
				t.Errorf("got path %s line %d key %q\n  msg %q\n  fix %q\nwant line %d key %q\n  msg %q\n  fix %q",
					ce.Path, ce.Line, ce.Key, ce.Msg, ce.Fix, tt.line, tt.key, tt.msg, tt.fix)
			}
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("%v does not start with the file's name", err)
			}
		})
	}
}

// What is right loads: every kind of setting, in every way TOML writes it.
func TestConfigLoadsEveryForm(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte(`backend = "docker"
hold_timeout = "2m"
sandbox.image = "img"   # dotted
[rules]
allow = ["make test", { prefix = "go test", reason = "tests" }]
deny = []
registries = ["npm.corp.example"]
[[rules.rate]]
prefix = "git push *"
risk = "medium"
[model]
name = "m"
timeout = "5s"
context = 2
[audit]
fsync = true
retention_days = -1
[[remember]]
project = "/p"
shape = ["ls"]
rules = []
`), 0o600)
	c, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Backend != "docker" || c.HoldTimeout.Minutes() != 2 || c.Sandbox.Image != "img" || len(c.Rules.Allow) != 2 ||
		c.Rules.Rate[0].Risk != "medium" || c.Model.Context != 2 || !c.Audit.Fsync || c.Remember[0].Project != "/p" {
		t.Errorf("loaded %+v", c)
	}
}

// A bad value in one of chaperone's environment variables is an error
// naming the variable, never ignored.
func TestCheckEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env      map[string]string
		name     string // of the variable at fault; "" for none
		msg, fix string
	}{
		{map[string]string{}, "", "", ""},
		{map[string]string{HoldTimeoutEnv: "90s", BackendEnv: "bwrap", ModelEnv: "anything"}, "", "", ""},
		{map[string]string{HoldTimeoutEnv: "ninety"}, HoldTimeoutEnv, "not a duration", "CHAPERONE_HOLD_TIMEOUT=90s"},
		{map[string]string{HoldTimeoutEnv: "90"}, HoldTimeoutEnv, "not a duration", "CHAPERONE_HOLD_TIMEOUT=90s"},
		{map[string]string{HoldTimeoutEnv: "-1s"}, HoldTimeoutEnv, "above 0", "unset it"},
		{map[string]string{NoPanelGraceEnv: "10s"}, "", "", ""},
		{map[string]string{NoPanelGraceEnv: "three"}, NoPanelGraceEnv, "not a duration", "CHAPERONE_NO_PANEL_GRACE=3s"},
		{map[string]string{NoPanelGraceEnv: "3"}, NoPanelGraceEnv, "not a duration", "CHAPERONE_NO_PANEL_GRACE=3s"},
		{map[string]string{NoPanelGraceEnv: "0s"}, NoPanelGraceEnv, "no-panel grace must be above 0", "unset it"},
		{map[string]string{HoldTimeoutEnv: "90s", NoPanelGraceEnv: "-3s"}, NoPanelGraceEnv, "above 0", "CHAPERONE_NO_PANEL_GRACE=3s"},
		{map[string]string{BackendEnv: "bwarp"}, BackendEnv, "no sandbox backend", "did you mean CHAPERONE_BACKEND=bwrap?"},
		{map[string]string{BackendEnv: "vm"}, BackendEnv, "no sandbox backend", "or unset it"},
	}
	for _, tt := range tests {
		err := CheckEnv(func(k string) string { return tt.env[k] })
		var ee *EnvError
		switch {
		case tt.name == "" && err != nil:
			t.Errorf("%v: %v", tt.env, err)
		case tt.name == "":
		case !errors.As(err, &ee):
			t.Errorf("%v: got %v, want an *EnvError", tt.env, err)
		case ee.Name != tt.name || !strings.Contains(ee.Msg, tt.msg) || !strings.Contains(ee.Fix, tt.fix) ||
			!strings.Contains(err.Error(), tt.name):
			t.Errorf("%v: got %+v", tt.env, ee)
		}
	}
}

// Load refuses a bad environment value as it refuses a broken file.
func TestLoadChecksEnv(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, name := range []string{HoldTimeoutEnv, NoPanelGraceEnv} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, "ninety")
			var ee *EnvError
			if _, err := Load(); !errors.As(err, &ee) || ee.Name != name {
				t.Errorf("Load: %v, want the %s error", err, name)
			}
		})
	}
}
