package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAllowHost(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.toml")
	orig := "# mine\nbackend = \"bwrap\"\n\n[network]\nallow = [\"a.example\"]\n"
	if err := os.WriteFile(path, []byte(orig), 0o640); err != nil {
		t.Fatal(err)
	}
	proj := `/home/u/we"ird\proj`
	for i := 0; i < 2; i++ { // the second time changes nothing
		if err := AllowHost(path, proj, "new.example:443", "curl https://new.example\nsecond line"); err != nil {
			t.Fatal(err)
		}
	}
	if err := AllowHost(path, "/other", "x.example:80", "why"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), orig) || strings.Count(string(b), "[[network.project]]") != 2 {
		t.Fatalf("config after AllowHost:\n%s", b)
	}
	c, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Network.Allow) != 1 || len(c.Network.Projects) != 2 || c.Network.Projects[0].Project != proj ||
		c.Network.Projects[0].Allow[0] != "new.example:443" || c.Backend != "bwrap" {
		t.Errorf("loaded %+v", c.Network)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the file's own 0640", fi.Mode().Perm())
	}
	if err := AllowHost(path, proj, "bad host", "why"); err == nil {
		t.Error("a malformed host was written")
	}
	os.WriteFile(path, []byte("backend = [\n"), 0o600)
	if err := AllowHost(path, proj, "a.example:443", "why"); err == nil {
		t.Error("a broken config was added to")
	}
}

func TestNetworkConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ text, want string }{
		{"[network]\nallow = [\"http://x.example/\"]\n", "config.toml:2: [network] allow: \"http://x.example/\" is not a host"},
		{"[network]\nhosts = { \"a.test\" = \"localhost\" }\n", "hosts"},
		{"[network]\nupload_limit = \"lots\"\n", "upload_limit"},
		{"[network]\nupload_limit = -1\n", "negative"},
	} {
		path := filepath.Join(t.TempDir(), "config.toml")
		os.WriteFile(path, []byte(c.text), 0o600)
		_, err := LoadFile(path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one with %q", c.text, err, c.want)
		}
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("[network]\nupload_limit = \"1MiB\"\n"), 0o600)
	c, err := LoadFile(path)
	if err != nil || c.Network.Limit() != 1<<20 {
		t.Errorf("upload_limit = \"1MiB\": %v, %d", err, c.Network.Limit())
	}
}
