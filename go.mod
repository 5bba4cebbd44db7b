module github.com/gorseq/gorseq

go 1.26.0

require golang.org/x/sys v0.50.0

require github.com/puzpuzpuz/xsync/v4 v4.5.0

require golang.org/x/arch v0.33.0

require (
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/tools v0.52.0
)
