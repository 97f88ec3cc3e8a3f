package main

import "context"

func runAudit(ctx context.Context, args []string) error { return errNotYet }
