// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build linux && (amd64 || arm64)

#include <stddef.h>
#include <stdint.h>

// glibc 2.35+ exports these from ld.so. They are weak so that a C library
// without rseq support (older glibc, musl) links and reports nothing.
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

// Must match rseqGlibcInfo in runtime/rseq_linux.go.
struct rseq_info {
	uintptr_t offset; // __rseq_offset: the area is at thread pointer + offset
	uintptr_t size;   // __rseq_size: 0 when glibc did not register
};

// x_cgo_rseq_info is called by the runtime, on m0, through asmcgocall.
void
x_cgo_rseq_info(void *arg)
{
	struct rseq_info *info = arg;
	const unsigned int *size = &__rseq_size;
	const ptrdiff_t *offset = &__rseq_offset;

	info->offset = 0;
	info->size = 0;
	if (size != NULL && offset != NULL && *size != 0) {
		info->offset = (uintptr_t)*offset;
		info->size = *size;
	}
}
