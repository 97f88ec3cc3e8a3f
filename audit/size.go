package audit

import "fmt"

// SizeText writes a byte count for a person: "512 B", "4.9 KiB",
// "1.2 MiB" (audit show's connection lines, the panel's).
func SizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
