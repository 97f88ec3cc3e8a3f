package parser

import (
	"testing"
)

// TestExpansionSubstitutions: a command substitution in the parts of an
// expansion that bash evaluates (subscripts, substring offsets, the words
// of ${x:-…} and ${x/…/…}, arithmetic, a C-style for) is found.
func TestExpansionSubstitutions(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`echo ${a[$(id)]}`,
		`echo ${#a[$(id)]}`,
		`echo ${s:$(id):1}`,
		`echo ${s:0:$(id)}`,
		`echo ${s/x/$(id)}`,
		`echo ${s/$(id)/x}`,
		`echo ${s:-$(id)}`,
		`echo "${s:+"$(id)"}"`,
		`echo $(( a[$(id)] + 1 ))`,
		`(( $(id) ))`,
		`let n=$(id)`,
		`for (( i = $(id); i < 3; i++ )); do :; done`,
		`a[$(id)]=1`,
		`a=([$(id)]=1)`,
		`declare -A m; m[$(id)]=1`,
		`echo ${a[${b[$(id)]}]}`,
	} {
		if find(Parse(src), "id") == nil {
			t.Errorf("%s: id not found in %q", src, names(Parse(src)))
		}
	}
}
