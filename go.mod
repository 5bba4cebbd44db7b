module github.com/gorseq/gorseq

go 1.26
