package main

import "context"

func runTUI(ctx context.Context, args []string) error { return errNotYet }
