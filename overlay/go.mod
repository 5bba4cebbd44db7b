// This module only fences the overlay off from the main module: the files
// under runtime/ compile only inside GOROOT/src/runtime, where build.sh
// puts them.
module github.com/gorseq/gorseq/overlay

go 1.26
