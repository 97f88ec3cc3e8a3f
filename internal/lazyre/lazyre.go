// Package lazyre holds regular expressions that are compiled on first use.
// chaperone runs as a new process for every command, and compiling every
// rule's pattern at start-up would cost each of them about a millisecond;
// most commands need only a few patterns, or none.
package lazyre

import (
	"regexp"
	"sync"
)

// RE is a regexp compiled on first use. It is safe for concurrent use.
type RE struct {
	pat  string
	once sync.Once
	re   *regexp.Regexp
}

// New returns a lazily compiled regexp; an invalid pattern panics on first
// use, as regexp.MustCompile would at start-up (tests exercise every one).
func New(pat string) *RE { return &RE{pat: pat} }

// Regexp returns the compiled regexp.
func (l *RE) Regexp() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.pat) })
	return l.re
}

// MatchString is regexp.Regexp.MatchString.
func (l *RE) MatchString(s string) bool { return l.Regexp().MatchString(s) }

// FindStringSubmatch is regexp.Regexp.FindStringSubmatch.
func (l *RE) FindStringSubmatch(s string) []string { return l.Regexp().FindStringSubmatch(s) }

// FindAllStringSubmatch is regexp.Regexp.FindAllStringSubmatch.
func (l *RE) FindAllStringSubmatch(s string, n int) [][]string {
	return l.Regexp().FindAllStringSubmatch(s, n)
}

// FindStringIndex is regexp.Regexp.FindStringIndex.
func (l *RE) FindStringIndex(s string) []int { return l.Regexp().FindStringIndex(s) }

// FindAllStringSubmatchIndex is regexp.Regexp.FindAllStringSubmatchIndex.
func (l *RE) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return l.Regexp().FindAllStringSubmatchIndex(s, n)
}

// ReplaceAllString is regexp.Regexp.ReplaceAllString.
func (l *RE) ReplaceAllString(src, repl string) string { return l.Regexp().ReplaceAllString(src, repl) }
