package escape

// Red-team probes of a statement session's rating with what its bash
// holds, asked by name through the driver (shim: resolve, askedShell):
// earlier statements leave something that the asking does not carry to
// the rater, so that a statement reading the secret key runs unheld. The
// unit probes are shim's TestRedTeamPipedUnit.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/internal/itest"
)

// pipedProbe runs setup in a session, then last, which reads the key:
// one of them must be held (the attack needs them all to run). Bubblewrap
// only: what is probed is the rating, the same on every backend.
func pipedProbe(t *testing.T, last string, setup ...string) {
	for _, b := range []string{"bwrap"} {
		t.Run(b, func(t *testing.T) {
			itest.Require(t, b, available(b))
			w := newWorld(t, b, worldOpts{deny: true})
			w.begin(t)
			s := startSession(t, w)
			var ran []string
			for _, l := range append(setup, last) {
				r := s.run(l)
				if r.status == 126 {
					return // held (and denied: no panel answers)
				}
				ran = append(ran, fmt.Sprintf("%q (status %d, stdout %q)", w.x(l), r.status, clip(r.stdout, 100)))
			}
			t.Errorf("NOT HELD: every statement ran: %s", strings.Join(ran, "; "))
		})
	}
}

// $PWD was never asked ("the rating has it"), but it is a variable:
// bash's pwd printed the project, $PWD the key.
func TestRedTeamPipedPWD(t *testing.T) {
	pipedProbe(t, "cat $PWD", "PWD=@HOME@/.ssh/id_rsa")
}

// A dynamic variable, once unset, is a plain one; it was never asked.
func TestRedTeamPipedUnsetRANDOM(t *testing.T) {
	pipedProbe(t, "cat $RANDOM", "unset RANDOM; RANDOM=@HOME@/.ssh/id_rsa")
}

// f's inner g replaced the real g in what was put in front (asked after
// it); it is made only when f runs.
func TestRedTeamPipedNestedDefinition(t *testing.T) {
	pipedProbe(t, "g; f", "g() { cat $k; }", "f() { g() { :; }; }", "k=@HOME@/.ssh/id_rsa")
}

// The function name /bin/ls is split by the words a statement's calls
// are found by: it was never asked. Defining it is held now.
func TestRedTeamPipedSlashFunction(t *testing.T) {
	pipedProbe(t, "/bin/ls", "/bin/ls() { cat $k; }", "k=@HOME@/.ssh/id_rsa")
}

// hash -p: ls runs cat from then on, and nothing asked about it. It is
// held now.
func TestRedTeamPipedHashP(t *testing.T) {
	pipedProbe(t, "ls @HOME@/.ssh/id_rsa", "hash -p /bin/cat ls")
}

// ${!r} with r='a[1]' expands an element of a, which was not followed.
func TestRedTeamPipedIndirectArrayElement(t *testing.T) {
	pipedProbe(t, "cat ${!r}", "a=(x @HOME@/.ssh/id_rsa)", "r='a[1]'")
}

// ~ is the shell's HOME: after HOME=/etc, ~/shadow is /etc/shadow, which
// was read with chaperone's HOME.
func TestRedTeamPipedHomeTilde(t *testing.T) {
	pipedProbe(t, "cat ~/shadow", "HOME=/etc")
}
