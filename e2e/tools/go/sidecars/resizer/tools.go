//go:build tools

// Package tools pins the main package sidecars.sh builds, so that `go mod tidy`
// keeps every module it needs in go.mod/go.sum.
package tools

import (
	_ "github.com/kubernetes-csi/external-resizer/v2/cmd/csi-resizer"
)
