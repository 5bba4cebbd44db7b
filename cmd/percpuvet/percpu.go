// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// percpuPath is the import path of the package the checks are about.
const percpuPath = "github.com/gorseq/gorseq/percpu"

// isPercpu reports whether pkg is the percpu package (or a vendored copy).
func isPercpu(pkg *types.Package) bool {
	if pkg == nil {
		return false
	}
	p := pkg.Path()
	return p == percpuPath || strings.HasSuffix(p, "/vendor/"+percpuPath)
}

// percpuFunc returns the name of the package-level function of percpu that
// call calls statically, or "" if it calls anything else (a method, a
// function value, a conversion, a builtin).
func percpuFunc(info *types.Info, call *ast.CallExpr) string {
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || !isPercpu(fn.Pkg()) || fn.Signature().Recv() != nil {
		return ""
	}
	return fn.Name()
}

// isCallTo reports whether e, without parentheses, is a call of one of the
// named functions of the package with path pkg.
func isCallTo(info *types.Info, e ast.Expr, pkg string, names ...string) (string, bool) {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return "", false
	}
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Signature().Recv() != nil {
		return "", false
	}
	if pkg == percpuPath {
		if !isPercpu(fn.Pkg()) {
			return "", false
		}
	} else if fn.Pkg().Path() != pkg {
		return "", false
	}
	for _, n := range names {
		if fn.Name() == n {
			return n, true
		}
	}
	return "", false
}

// noCopyTypes are the percpu types that must not be copied.
var noCopyTypes = map[string]bool{
	"Counter":      true,
	"FloatCounter": true,
	"RWMutex":      true,
	"Pool":         true,
	"Values":       true,
}

// containedNoCopy returns a description of the percpu value type that a
// value of type t holds (t itself, an element of an array, a field of a
// struct, at any depth but not behind a pointer, slice, map, channel or
// interface), such as "percpu.Counter" or "percpu.Counter (in p.S)", or ""
// if it holds none. qf qualifies the outer type's name.
func containedNoCopy(t types.Type, qf types.Qualifier) string {
	inner := noCopyIn(t, nil)
	if inner == nil {
		return ""
	}
	name := "percpu." + inner.Obj().Name()
	if n, ok := types.Unalias(t).(*types.Named); ok && n.Origin() == inner.Origin() {
		return name
	}
	return name + " (in " + types.TypeString(t, qf) + ")"
}

// noCopyIn returns the percpu value type that t holds, or nil.
func noCopyIn(t types.Type, seen map[types.Type]bool) *types.Named {
	t = types.Unalias(t)
	if seen[t] {
		return nil
	}
	if seen == nil {
		seen = make(map[types.Type]bool)
	}
	seen[t] = true
	if n, ok := t.(*types.Named); ok && isPercpu(n.Obj().Pkg()) && noCopyTypes[n.Obj().Name()] {
		return n
	}
	if _, ok := t.(*types.TypeParam); ok {
		return nil
	}
	switch u := t.Underlying().(type) {
	case *types.Array:
		return noCopyIn(u.Elem(), seen)
	case *types.Struct:
		for f := range u.Fields() {
			if n := noCopyIn(f.Type(), seen); n != nil {
				return n
			}
		}
	}
	return nil
}

// varOf returns the variable that e (without parentheses) names: a local or
// package-level variable, or a struct field (its generic origin), or nil.
func varOf(info *types.Info, e ast.Expr) *types.Var {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		if v, ok := info.ObjectOf(e).(*types.Var); ok {
			return v.Origin()
		}
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[e]; ok {
			if sel.Kind() == types.FieldVal {
				return sel.Obj().(*types.Var).Origin()
			}
			return nil
		}
		if v, ok := info.Uses[e.Sel].(*types.Var); ok { // pkg.Var
			return v
		}
	}
	return nil
}
