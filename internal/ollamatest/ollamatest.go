// Package ollamatest runs a real Ollama server for integration tests and
// gives it tiny generated models: no weights are downloaded. A model is a
// one-layer llama GGUF of random weights, steered so that whatever the
// prompt, its schema-constrained answer is a short fixed JSON object whose
// risk is the one asked for. What the tests check is the plumbing and the
// combination rule, not the model's judgement.
//
// How the steering works: one residual channel (steerChannel) is 1.0 in
// every token embedding and no layer writes to it (that row of attn_output
// and ffn_down is zero), so after the final norm it is a positive constant.
// output.weight is zero except in that column, where it holds a fixed
// preference per token. Under the JSON grammar the greedy choice is then:
// end of text > `ok"` > `[]` > `"` > `}` > `:` `,` > the wanted risk's first
// letter > anything else > whitespace, which spells
// {"risk":"low","reason":"ok","dangerous_spans":[]} (or "high").
package ollamatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/fs/ggml"

	"github.com/chaperone-dev/chaperone/internal/itest"
)

// Model dimensions: tiny, and every tensor a multiple of 32 bytes.
const (
	embd         = 32
	heads        = 4
	ff           = 64
	ctxLen       = 4096
	steerChannel = 0
)

// Special and extra tokens. Byte tokens <0x00>…<0xFF> follow the first three.
const (
	tokUnk, tokBOS, tokEOS = 0, 1, 2
	firstByte              = 3
)

var extraTokens = []string{`ok"`, `[]`}

// WriteTinyModel writes a steered random-weight llama GGUF to w whose
// answers always carry the risk named by answer ("low", "medium" or
// "high"), and returns nothing else of note.
func WriteTinyModel(w io.WriteSeeker, answer string, seed uint64) error {
	if answer == "" {
		return fmt.Errorf("tiny model: no answer")
	}
	tokens := []string{"<unk>", "<s>", "</s>"}
	types := []int32{2, 3, 3}
	for b := range 256 {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		types = append(types, 6)
	}
	for _, t := range extraTokens {
		tokens = append(tokens, t)
		types = append(types, 1)
	}
	scores := make([]float32, len(tokens))
	for i := range scores {
		scores[i] = -float32(i) // merges are never used: no normal token pairs up
	}
	vocab := len(tokens)

	pref := make([]float32, vocab)
	for i := range pref {
		pref[i] = 1
	}
	setByte := func(c byte, v float32) { pref[firstByte+int(c)] = v }
	for _, c := range []byte(" \t\n\r") {
		setByte(c, -5)
	}
	pref[tokUnk], pref[tokBOS] = -10, -10
	pref[tokEOS] = 10
	pref[firstByte+256] = 9   // ok"
	pref[firstByte+256+1] = 8 // []
	setByte('"', 7)
	setByte('}', 6)
	setByte(':', 5)
	setByte(',', 5)
	setByte(answer[0], 4)

	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	random := func(n int, scale float32) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = (rng.Float32()*2 - 1) * scale
		}
		return out
	}
	ones := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = 1
		}
		return out
	}

	tokEmbd := random(vocab*embd, 0.5) // [vocab][embd]
	for t := range vocab {
		tokEmbd[t*embd+steerChannel] = 1
	}
	output := make([]float32, vocab*embd) // [vocab][embd]
	for t := range vocab {
		output[t*embd+steerChannel] = pref[t]
	}
	attnOut := random(embd*embd, 0.2) // [out][in]
	for j := range embd {
		attnOut[steerChannel*embd+j] = 0
	}
	ffnDown := random(embd*ff, 0.2) // [embd][ff]
	for j := range ff {
		ffnDown[steerChannel*ff+j] = 0
	}

	ts := []ggml.Tensor{
		tensor("token_embd.weight", tokEmbd, vocab, embd),
		tensor("output_norm.weight", ones(embd), embd),
		tensor("output.weight", output, vocab, embd),
		tensor("blk.0.attn_norm.weight", ones(embd), embd),
		tensor("blk.0.attn_q.weight", random(embd*embd, 0.2), embd, embd),
		tensor("blk.0.attn_k.weight", random(embd*embd, 0.2), embd, embd),
		tensor("blk.0.attn_v.weight", random(embd*embd, 0.2), embd, embd),
		tensor("blk.0.attn_output.weight", attnOut, embd, embd),
		tensor("blk.0.ffn_norm.weight", ones(embd), embd),
		tensor("blk.0.ffn_gate.weight", random(ff*embd, 0.2), ff, embd),
		tensor("blk.0.ffn_up.weight", random(ff*embd, 0.2), ff, embd),
		tensor("blk.0.ffn_down.weight", ffnDown, embd, ff),
	}
	kv := ggml.KV{
		"general.architecture":                   "llama",
		"general.name":                           "chaperone-tiny-" + answer,
		"general.file_type":                      uint32(0),
		"llama.context_length":                   uint32(ctxLen),
		"llama.embedding_length":                 uint32(embd),
		"llama.block_count":                      uint32(1),
		"llama.feed_forward_length":              uint32(ff),
		"llama.attention.head_count":             uint32(heads),
		"llama.attention.head_count_kv":          uint32(heads),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-5),
		"llama.rope.dimension_count":             uint32(embd / heads),
		"llama.rope.freq_base":                   float32(10000),
		"llama.vocab_size":                       uint32(vocab),
		"tokenizer.ggml.model":                   "llama",
		"tokenizer.ggml.tokens":                  tokens,
		"tokenizer.ggml.scores":                  scores,
		"tokenizer.ggml.token_type":              types,
		"tokenizer.ggml.bos_token_id":            uint32(tokBOS),
		"tokenizer.ggml.eos_token_id":            uint32(tokEOS),
		"tokenizer.ggml.unknown_token_id":        uint32(tokUnk),
		"tokenizer.ggml.add_bos_token":           true,
		"tokenizer.ggml.add_eos_token":           false,
	}
	return ggml.WriteGGUF(w, kv, ts)
}

// tensor makes an F32 tensor; shape is given outermost first (rows, cols),
// as WriteGGUF reverses it into GGML's order.
func tensor(name string, data []float32, shape ...int) ggml.Tensor {
	s := make([]uint64, len(shape))
	for i, d := range shape {
		s[i] = uint64(d)
	}
	return ggml.Tensor{Name: name, Kind: 0, Shape: s, WriterTo: f32s(data)}
}

type f32s []float32

func (f f32s) WriteTo(w io.Writer) (int64, error) {
	err := binary.Write(w, binary.LittleEndian, []float32(f))
	return int64(4 * len(f)), err
}

// Server is a running `ollama serve` on 127.0.0.1, private to one test.
type Server struct {
	URL    *url.URL
	Client *api.Client
	Log    *Log
	cmd    *exec.Cmd

	stopOnce sync.Once
}

// Log collects the server's output; safe for concurrent use.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what the server wrote so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Binary finds the ollama executable: $OLLAMA_BIN, then $(go env
// GOPATH)/bin/ollama (where scripts/ci-setup.d/50-ollama.sh installs it),
// then PATH.
func Binary() string {
	if p := os.Getenv("OLLAMA_BIN"); p != "" {
		if isExec(p) {
			return p
		}
		return ""
	}
	var gopaths []string
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gopaths = append(gopaths, filepath.SplitList(strings.TrimSpace(string(out)))...)
	}
	if home, err := os.UserHomeDir(); err == nil {
		gopaths = append(gopaths, filepath.Join(home, "go"))
	}
	for _, gp := range gopaths {
		if p := filepath.Join(gp, "bin", "ollama"); isExec(p) {
			return p
		}
	}
	if p, err := exec.LookPath("ollama"); err == nil {
		return p
	}
	return ""
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Start runs ollama serve on a free port of 127.0.0.1 with HOME and the
// model store in temp folders, and stops it when t ends. It skips t under
// -short, and when there is no ollama binary (failing it in CI then).
func Start(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	bin := Binary()
	itest.Require(t, "ollama (go install github.com/ollama/ollama@v0.6.5)", bin != "")
	port := freePort(t)
	home := t.TempDir()
	s := &Server{Log: &Log{}}
	s.URL = &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(port)}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(os.Environ(),
		"HOME="+home,
		"OLLAMA_HOST="+s.URL.Host,
		"OLLAMA_MODELS="+filepath.Join(home, "models"),
		"OLLAMA_NOPRUNE=1",
		"OLLAMA_KEEP_ALIVE=30m",
		"OLLAMA_NUM_PARALLEL=1",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.Log, s.Log
	// Its own process group, so that Stop also ends the runner processes
	// the server starts (they would otherwise hold the output pipe open).
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.cmd.WaitDelay = 2 * time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start ollama: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("ollama serve log (tail):\n%s", tail(s.Log.String(), 3000))
		}
	})
	s.Client = api.NewClient(s.URL, &http.Client{})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.Client.Heartbeat(ctx)
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("ollama serve did not come up: %v\n%s", err, tail(s.Log.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server now (to test a server that went down).
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		s.cmd.Wait()
	})
}

// CreateTiny builds a tiny steered model answering risk answer and creates
// it on the server as name, with one thread (two threads on a 2-core
// machine make calls 10-100x slower).
func (s *Server) CreateTiny(t testing.TB, name, answer string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteTinyModel(f, answer, 1); err != nil {
		t.Fatalf("write tiny model: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Client.CreateBlob(ctx, digest, bytes.NewReader(data)); err != nil {
		t.Fatalf("upload tiny model: %v", err)
	}
	stream := false
	err = s.Client.Create(ctx, &api.CreateRequest{
		Model:      name,
		Stream:     &stream,
		Files:      map[string]string{"tiny.gguf": digest},
		Template:   "{{ range .Messages }}{{ .Role }}: {{ .Content }}\n{{ end }}assistant: ",
		Parameters: map[string]any{"num_thread": 1},
	}, func(api.ProgressResponse) error { return nil })
	if err != nil {
		t.Fatalf("create tiny model %s: %v", name, err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
