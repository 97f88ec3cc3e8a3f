//go:build linux && (amd64 || arm64)

package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"
)

// label names an instruction that jumps go to; labels let the filter be
// written without counting instructions. Classic BPF only jumps forward, at
// most 255 instructions.
type label int

// next is the label of the following instruction: "do not jump".
const next label = -1

// asm writes a classic BPF program with labelled jumps.
type asm struct {
	prog  []bpf.Instruction
	at    []int // instruction each label marks; -1 until placed
	jumps []jump
}

// jump is a conditional jump whose targets are resolved by assemble.
type jump struct {
	pc   int
	t, f label
}

// label returns a new label, to be placed later.
func (a *asm) label() label {
	a.at = append(a.at, -1)
	return label(len(a.at) - 1)
}

// place marks the next instruction with l.
func (a *asm) place(l label) { a.at[l] = len(a.prog) }

// emit appends an instruction that does not jump.
func (a *asm) emit(ins bpf.Instruction) { a.prog = append(a.prog, ins) }

// jumpIf appends "if A <cond> val goto t else goto f".
func (a *asm) jumpIf(cond bpf.JumpTest, val uint32, t, f label) {
	a.jumps = append(a.jumps, jump{pc: len(a.prog), t: t, f: f})
	a.emit(bpf.JumpIf{Cond: cond, Val: val})
}

// assemble resolves the jumps and returns the program as the kernel's
// struct sock_filter array, in the machine's byte order.
func (a *asm) assemble() ([]byte, error) {
	for _, j := range a.jumps {
		ins := a.prog[j.pc].(bpf.JumpIf)
		var err error
		if ins.SkipTrue, err = a.skip(j.pc, j.t); err != nil {
			return nil, err
		}
		if ins.SkipFalse, err = a.skip(j.pc, j.f); err != nil {
			return nil, err
		}
		a.prog[j.pc] = ins
	}
	raw, err := bpf.Assemble(a.prog)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 8*len(raw))
	for _, r := range raw {
		out = binary.NativeEndian.AppendUint16(out, r.Op)
		out = append(out, r.Jt, r.Jf)
		out = binary.NativeEndian.AppendUint32(out, r.K)
	}
	return out, nil
}

// skip returns how many instructions a jump at pc passes over to reach l.
func (a *asm) skip(pc int, l label) (uint8, error) {
	if l == next {
		return 0, nil
	}
	to := a.at[l]
	switch n := to - pc - 1; {
	case to < 0:
		return 0, fmt.Errorf("instruction %d jumps to a label never placed", pc)
	case n < 0 || n > 255:
		return 0, fmt.Errorf("instruction %d jumps to %d: out of a classic BPF jump's reach", pc, to)
	default:
		return uint8(n), nil
	}
}
