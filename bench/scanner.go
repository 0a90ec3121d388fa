package main

import "context"

func runScanner(ctx context.Context, o options) error { return nil }
