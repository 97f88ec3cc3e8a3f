package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/ollamatest"
)

// TestModelCheckRealOllama runs `chaperone model check` and the doctor's
// model line against a real Ollama server with a tiny generated model.
func TestModelCheckRealOllama(t *testing.T) {
	s := ollamatest.Start(t) // skips under -short
	s.CreateTiny(t, "chaperone-high", "high")
	t.Setenv("OLLAMA_HOST", s.URL.Host)
	cfgHome := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfgHome)
	// The first question loads the model: at the full suite's load that
	// took more than the default 5 s.
	if err := os.MkdirAll(filepath.Join(cfgHome, "chaperone"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgHome, "chaperone", "config.toml"), []byte("[model]\ntimeout = \"60s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_STATE_HOME", t.TempDir())

	t.Setenv("CHAPERONE_MODEL", "chaperone-high")
	var out strings.Builder
	if err := modelCheck(context.Background(), &out, nil); err != nil {
		t.Fatalf("model check: %v\n%s", err, out.String())
	}
	for _, want := range []string{"(timeout 1m0s,", "ok   server: ollama ", "ok   model: chaperone-high present", `ok   question: "ls -la" rated high`, "ok   loaded: answers in"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	doctorModel(&out, &config.Config{})
	if !strings.Contains(out.String(), "model: chaperone-high at http://"+s.URL.Host+" ok") {
		t.Errorf("doctor says:\n%s", out.String())
	}

	t.Setenv("CHAPERONE_MODEL", "qwen9:404b")
	out.Reset()
	if err := modelCheck(context.Background(), &out, nil); !errors.Is(err, errCheckFailed) ||
		!strings.Contains(out.String(), "FAIL model: qwen9:404b is not on the server\nfix: ollama pull qwen9:404b") {
		t.Errorf("missing model: %v\n%s", err, out.String())
	}
	out.Reset()
	doctorModel(&out, &config.Config{})
	if !strings.Contains(out.String(), "fix: ollama pull qwen9:404b") {
		t.Errorf("doctor says:\n%s", out.String())
	}

	t.Setenv("CHAPERONE_MODEL", "")
	out.Reset()
	doctorModel(&out, &config.Config{})
	if !strings.Contains(out.String(), "model: none configured — rating by rules alone") {
		t.Errorf("doctor says:\n%s", out.String())
	}
}
