package jute

//go:generate go run ./internal/gen records.def records_gen.go
