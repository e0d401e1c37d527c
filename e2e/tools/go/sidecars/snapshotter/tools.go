//go:build tools

// Package tools pins the main packages sidecars.sh builds, so that `go mod tidy`
// keeps every module they need in go.mod/go.sum.
package tools

import (
	_ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/csi-snapshotter"
	_ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller"
)
