// Package models holds the domain types shared by every part of chaperone:
// risk levels, findings, ratings, decisions, parsed facts and audit events.
// It imports nothing of ours, so every other package may import it.
package models
