package parser

import "testing"

// TestChildEnvironment: the code of a child shell sees the variables in
// its environment, the exported ones and the assignments before the
// command, so that what a value runs there is found; it does not see
// the others, and what it assigns stays there.
func TestChildEnvironment(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`x='a[$(id)]' bash -c 'echo $((x))'`,
		`x='a[$(id)]' env bash -c 'echo $((x))'`,
		`env x='a[$(id)]' bash -c 'echo $((x))'`,
		`env -i x='a[$(id)]' sh -c 'echo $((x))'`,
		`x='a[$(id)]' nohup env bash -c 'echo $((x))'`,
		`x='a[$(id)]'; export x; bash -c '[[ $x -eq 1 ]]'`,
		`x='a[$(id)]'; declare -x x; sh -c 'echo $((x))'`,
		`export x; x='a[$(id)]'; bash -c 'echo $((x))'`,
		`set -a; x='a[$(id)]'; bash -c 'echo $((x))'`,
		`X='a[$(id)]'; bash -c 'echo $((X))'`,
		`x='$(id)' bash -c 'echo "${x@P}"'`,
		`x='a[$(id)]' find . -exec sh -c 'echo $((x))' \;`,
		`x='a[$(id)]'; export x; bash -c 'bash -c "echo \$((x))"'`,
		`x='a[$(id)]'; case 1 in $((x))) ;; esac`,
		`case 1 in $(id)) ;; esac`,
	} {
		if find(Parse(src), "id") == nil {
			t.Errorf("%s: id not found in %q", src, names(Parse(src)))
		}
	}
	for _, src := range []string{
		`x='a[$(id)]'; bash -c 'echo $((x))'`,
		`x='a[$(id)]'; export x; export -n x; bash -c 'echo $((x))'`,
		`x='a[$(id)]' env -i bash -c 'echo $((x))'`,
		`x='a[$(id)]' docker exec c bash -c 'echo $((x))'`,
		`export x='a[$(id)]'; ssh h 'echo $((x))'`,
		`bash -c "x='a[\$(id)]'"; echo $((x))`,
		`x=5 bash -c 'echo $((x+1))'`,
		`case 1 in $((n))) ;; esac`,
	} {
		if id := find(Parse(src), "id"); id != nil {
			t.Errorf("%s: id found via %q", src, id.Via)
		}
	}
}
