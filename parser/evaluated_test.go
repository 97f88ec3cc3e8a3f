package parser

import (
	"slices"
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

// TestEvaluatedValues: a value assigned earlier in the text that bash
// evaluates as code (a prompt expansion, arithmetic on a variable's
// value) is walked, and the command it runs is found, by way of the
// expansion that runs it.
func TestEvaluatedValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src, via string
	}{
		{`x='$(id)'; echo "${x@P}"`, "${x@P}"},
		{"x='`id`'; echo ${x@P}", "${x@P}"},
		{`x='\u@\h $(id)'; printf %s "${x@P}"`, "${x@P}"},
		{`a=(ok '$(id)'); echo "${a[1]@P}"`, "${a@P}"},
		{`a=(ok '$(id)'); echo "${a[@]@P}"`, "${a@P}"},
		{`r=x; x='$(id)'; echo "${!r@P}"`, "${!r@P}"},
		{`declare -A m=([k]='$(id)'); echo "${m[@]@P}"`, "${m@P}"},
		{`f() { echo "${1@P}"; }; f '$(id)'`, "${1@P}"},
		{`x='a[$(id)]'; echo $((x))`, "arithmetic x"},
		{`x='a[$(id)]'; echo $(( $x + 1 ))`, "arithmetic x"},
		{`x='a[$(id)]'; echo $[x]`, "arithmetic x"},
		{`x='a[$(id)]'; (( x > 0 ))`, "arithmetic x"},
		{`x='a[$(id)]'; let y=x+1`, "arithmetic x"},
		{`x='a[$(id)]'; let "y = x + 1"`, "arithmetic x"},
		{`x='a[$(id)]'; for (( i = 0; i < x; i++ )); do :; done`, "arithmetic x"},
		{`x='a[$(id)]'; [[ $x -eq 0 ]]`, "[[ ]] arithmetic"},
		{`x='a[$(id)]'; [[ 1 -lt x ]]`, "arithmetic x"},
		{`x='a[$(id)]'; declare -i n=x`, "arithmetic x"},
		{`x='a[$(id)]'; declare -i n=$x`, "integer n"},
		{`x='a[$(id)]'; f() { local -i n=$x; }; f`, "integer n"},
		{`x='a[$(id)]'; declare -i n; n=$x`, "integer n"},
		{`x='a[$(id)]'; echo ${arr[x]}`, "arithmetic x"},
		{`x='a[$(id)]'; arr[x]=1`, "arithmetic x"},
		{`x='a[$(id)]'; s=abc; echo ${s:x:1}`, "arithmetic x"},
		{`x='a[$(id)]'; y=x; echo $((y))`, "arithmetic x"},
		{`x='a[$(id)]'; declare -n r=x; echo $((r))`, "arithmetic r"},
		{`x='a[$(id)]'; p='$((x))'; echo "${p@P}"`, "arithmetic x"},
		{`a=(0 'b[$(id)]'); echo $(( a[1] + 1 ))`, "arithmetic a[1]"},
		{`PS4='+ $(id) '; set -x; ls`, "PS4 prompt"},
		{"set -x; export PS4='`id`'; ls", "PS4 prompt"},
		{`PS1='$(id) \$ '`, "PS1 prompt"},
		{`a=(0 'b[$(id)]'); echo $(( ${a[1]} ))`, "arithmetic a[1]"},
	}
	for _, c := range cases {
		f := Parse(c.src)
		id := find(f, "id")
		if id == nil {
			t.Errorf("%s: id not found in %q", c.src, names(f))
			continue
		}
		if !slices.Contains(id.Via, c.via) {
			t.Errorf("%s: id found via %q, want %q among them", c.src, id.Via, c.via)
		}
	}
}

// TestEvaluatedRunTime: a prompt expansion of a value only known at run
// time is opaque; arithmetic on one is not (every loop counter would be);
// values that run nothing add no command. (x='$(id)'; echo $((x)) does
// not run id, bash only expands a subscript in the value, but the parser
// walks it all: never lower.)
func TestEvaluatedRunTime(t *testing.T) {
	t.Parallel()
	for _, src := range []string{`echo "${PS1@P}"`, `read -r x; echo "${x@P}"`, `x=$(cat f); echo "${x@P}"`, `echo "${a[$i]@P}"`} {
		if f := Parse(src); !f.Opaque {
			t.Errorf("%s: not opaque: %q", src, names(f))
		}
	}
	for _, src := range []string{
		`echo $((i+1))`, `(( n > 3 ))`, `read -r x; echo $((x))`, `x=5; echo $((x*2))`,
		`PS1='\u@\h:\w\$ '; echo ${PS1@P}`, `PS1='\$(id)'; echo "${PS1@P}"`, `[[ $n -lt 10 ]]`,
		`a[i]=1; echo ${a[i]}`, `x='a[$x]'; echo $((x))`, `x='a[$(id)]'; echo "$x"`,
		`x='a[$(id)]'; [ "$x" -eq 0 ]`, `x='$(id)'; echo "${x@Q}"`,
	} {
		f := Parse(src)
		if f.Opaque {
			t.Errorf("%s: opaque: %v", src, f.OpaqueReasons)
		}
		if id := find(f, "id"); id != nil {
			t.Errorf("%s: id found via %q", src, id.Via)
		}
	}
}

// TestElementNames: an array element given by name as a string, to a
// builtin or through ${!r} or a name reference, has its subscript
// evaluated.
func TestElementNames(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`read 'a[$(id)]' <<< x`,
		`printf -v 'a[$(id)]' %s x`,
		`unset 'a[$(id)]'`,
		`declare 'a[$(id)]=1'`,
		`[[ -v 'a[$(id)]' ]]`,
		`test -v 'a[$(id)]'`,
		`[ -v 'a[$(id)]' ]`,
		`r='a[$(id)]'; echo ${!r}`,
		`r='a[$(id)]'; declare -n ref=$r; ref=1`,
		`i='b[$(id)]'; read "a[i]" <<< x`,
	} {
		if find(Parse(src), "id") == nil {
			t.Errorf("%s: id not found in %q", src, names(Parse(src)))
		}
	}
	for _, src := range []string{`printf '%s\n' 'a[$(id)]'`, `read -r 'a[i]' <<< x`, `test 'a[$(id)]' = x`} {
		if find(Parse(src), "id") != nil {
			t.Errorf("%s: id found", src)
		}
	}
}
