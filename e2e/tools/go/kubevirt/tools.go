//go:build tools

// Package tools pins the main package sidecars.sh builds from KubeVirt, so that `go mod tidy`
// keeps every module it needs in go.mod/go.sum.
package tools

import _ "kubevirt.io/kubevirt/cmd/virt-api"
