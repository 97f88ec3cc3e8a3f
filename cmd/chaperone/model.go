package main

import "context"

func runModel(ctx context.Context, args []string) error { return errNotYet }

func runFewshot(ctx context.Context, args []string) error { return errNotYet }
