package main

import "context"

func runRate(ctx context.Context, args []string) error { return errNotYet }
