package shim

import (
	"os"

	"github.com/chaperone-dev/chaperone/parser"
)

// The agents' wrappers and how an agent is recognised live in package
// parser (parser.Unwrap, parser.DetectAgent), where the approval panel's
// broker finds them too. The names below keep decideAndRun as it was; new
// code calls package parser.

// Wrapper is parser.Wrapper.
type Wrapper = parser.Wrapper

// DetectAgent is parser.DetectAgent.
func DetectAgent(getenv func(string) string) string { return parser.DetectAgent(getenv) }

// DetectSession is parser.DetectSession.
func DetectSession(getenv func(string) string, ppid int) string {
	return parser.DetectSession(getenv, ppid)
}

// Session is DetectSession for this process.
func Session() string { return parser.DetectSession(os.Getenv, os.Getppid()) }
