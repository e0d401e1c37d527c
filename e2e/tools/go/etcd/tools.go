//go:build tools

// Package tools pins the main packages go-tools.sh builds, so that
// `go mod tidy` keeps every module they need in go.mod/go.sum.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
