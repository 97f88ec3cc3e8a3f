package sessions

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// piped is a shell reading statements from a pipe, answering each with
// a marker line on another; the marker is read as it comes (no polling),
// so that a statement's time is measured to the microsecond.
type piped struct {
	name string
	in   io.WriteCloser
	out  *bufio.Reader
	cmd  *exec.Cmd
}

// startPiped starts args in dir with env, stdin and stdout pipes and
// stderr in a file of the test's.
func startPiped(b *testing.B, name, dir string, env []string, args ...string) *piped {
	b.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Env = dir, env
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(b.TempDir(), "stderr"))
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &piped{name: name, in: in, out: bufio.NewReader(out), cmd: cmd}
	b.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		stderr.Close()
	})
	return p
}

// statement writes stmt and reads until its marker line, and returns
// how long that took.
func (p *piped) statement(b *testing.B, stmt, marker string) time.Duration {
	start := time.Now()
	if _, err := io.WriteString(p.in, stmt); err != nil {
		b.Fatalf("%s: write: %v", p.name, err)
	}
	for {
		line, err := p.out.ReadString('\n')
		if err != nil {
			b.Fatalf("%s: no %q before %v", p.name, marker, err)
		}
		if strings.TrimSuffix(line, "\n") == marker {
			return time.Since(start)
		}
	}
}

// BenchmarkSessionStatement is what a warm session adds to a low
// statement (rules only) over bash running it: one op is the statement
// `echo __END__$?` (it prints its own marker) written to a chaperone
// session on a pipe and, in turn, to bash reading statements from a pipe
// inside the same sandbox (`chaperone -c 'bash -s'`: one sandbox, one
// bash, no chaperone between statements), each waited for until its
// marker line arrives. Reported: the median time of a statement in each
// (chaperone-µs, bash-µs) and the difference of the medians (added-µs;
// the target is at most 1000). A chaperone statement includes its
// audit record and output recording. host-bash-µs is bash on the host,
// for scale. bwrap-no-output is bwrap with no output recorded
// (output_max_bytes = -1): what the recording of each statement's output
// costs.
func BenchmarkSessionStatement(b *testing.B) {
	type variant struct{ name, backend, conf string }
	variants := []variant{{"bwrap-no-output", "bwrap", "\n[audit]\noutput_max_bytes = -1\n"}}
	for _, backend := range backends {
		variants = append(variants, variant{backend, backend, ""})
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			w := newWorld(b, v.backend)
			if v.conf != "" {
				w.appendConfig(v.conf)
			}
			plain := w.conf
			if !strings.Contains(plain, "[audit]") {
				plain += "\n[audit]\noutput_max_bytes = -1\n"
			}
			chp := filepath.Join(w.bin, "chaperone")
			session := startPiped(b, "chaperone session", w.proj, w.env, chp)
			sandboxed := startPiped(b, "bash in the sandbox", w.proj, w.otherConfig("config-plain", plain), chp, "-c", "bash -s")
			host := startPiped(b, "bash on the host", w.proj, w.env, "bash", "-s")
			const stmt, marker = "echo __END__$?\n", "__END__0"
			all := []*piped{session, sandboxed, host}
			for range 20 { // warm: the sandbox started, caches filled
				for _, p := range all {
					p.statement(b, stmt, marker)
				}
			}
			times := make([][]time.Duration, len(all))
			for b.Loop() {
				for i, p := range all {
					times[i] = append(times[i], p.statement(b, stmt, marker))
				}
			}
			med := func(i int) float64 {
				d := slices.Sorted(slices.Values(times[i]))
				return float64(d[len(d)/2].Nanoseconds()) / 1000
			}
			b.ReportMetric(med(0), "chaperone-µs")
			b.ReportMetric(med(1), "bash-µs")
			b.ReportMetric(med(0)-med(1), "added-µs")
			b.ReportMetric(med(2), "host-bash-µs")
		})
	}
}
