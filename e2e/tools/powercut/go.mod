// powercut: a FUSE filesystem that simulates a power cut (see main.go), built by
// e2e/tools/go-tools.sh into $REMAP_CACHE/bin for the engine's PowerCutTest.
module remap.dev/e2e/tools/powercut

go 1.24

require github.com/hanwen/go-fuse/v2 v2.12.1

require golang.org/x/sys v0.28.0 // indirect
