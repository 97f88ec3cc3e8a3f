// Package suggest finds the word a person most likely meant: the verb,
// setting or section nearest to a mistyped one.
package suggest

// MaxEdits is how far a mistyping may be from the word meant: two edits
// (a transposition counts as two).
const MaxEdits = 2

// Closest returns the word of among within MaxEdits edits of word, the
// nearest first and, among equally near ones, the first in byte order;
// "" when none is that near.
func Closest(word string, among []string) string {
	best, bestDist := "", MaxEdits+1
	for _, w := range among {
		if d := Distance(word, w); d < bestDist || (d == bestDist && w < best) {
			best, bestDist = w, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
