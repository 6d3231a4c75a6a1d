//go:build !linux

package storage

import "os"

func datasync(f *os.File) error { return f.Sync() }

func writeBehind(f *os.File, off, n int64) {}

func startWriteback(f *os.File, off, n int64) {}
