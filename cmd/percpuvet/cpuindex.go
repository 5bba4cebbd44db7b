// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// IndexAnalyzer reports slices indexed by percpu.CPU(), percpu.CID() or
// percpu.Node() whose length comes from runtime.NumCPU() or
// runtime.GOMAXPROCS().
var IndexAnalyzer = &analysis.Analyzer{
	Name:     "percpuindex",
	Doc:      "report slices sized by runtime.NumCPU or GOMAXPROCS and indexed by percpu.CPU, CID or Node\n\nCPU numbers can exceed NumCPU and GOMAXPROCS (cpusets, offline CPUs,\ncontainers); per-CPU slices must have percpu.Shards() elements.",
	URL:      "https://github.com/gorseq/gorseq/tree/main/cmd/percpuvet",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runIndex,
}

// A write is a value stored in a variable: rhs, or nil if the value is
// unknown (a range variable, a result of a multi-value call, a store
// through a pointer that escaped with &v, ...).
type write struct {
	rhs ast.Expr
}

func runIndex(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	writes := collectWrites(info, in)

	// Sized slices: every value stored in them is a make whose length
	// counts runtime.NumCPU() or GOMAXPROCS, nil, or another sized
	// slice (a least fixed point). sized holds the make.
	sized := make(map[*types.Var]*ast.CallExpr)
	for changed := true; changed; {
		changed = false
		for v, ws := range writes {
			if sized[v] != nil {
				continue
			}
			if _, ok := v.Type().Underlying().(*types.Slice); !ok {
				continue
			}
			var witness *ast.CallExpr
			ok := true
			for _, w := range ws {
				if w.rhs == nil {
					ok = false
					break
				}
				if mk := numCPUMake(info, writes, w.rhs); mk != nil {
					witness = mk
				} else if isNil(info, w.rhs) {
				} else if u := varOf(info, w.rhs); u != nil && sized[u] != nil {
					witness = sized[u]
				} else {
					ok = false
					break
				}
			}
			if ok && witness != nil {
				sized[v] = witness
				changed = true
			}
		}
	}
	if len(sized) == 0 {
		return nil, nil
	}

	for cur := range in.Root().Preorder((*ast.IndexExpr)(nil)) {
		ix := cur.Node().(*ast.IndexExpr)
		v := varOf(info, ix.X)
		mk := sized[v]
		if mk == nil {
			continue
		}
		fn := cpuIndex(info, writes, ix.Index)
		if fn == "" {
			continue
		}
		what := map[string]string{"CPU": "CPU numbers", "CID": "CIDs", "Node": "node numbers"}[fn]
		sizer, _ := isCallTo(info, findNumCPU(info, writes, mk.Args[1], nil), "runtime", "NumCPU", "GOMAXPROCS")
		pass.Report(analysis.Diagnostic{
			Pos: ix.Pos(),
			End: ix.End(),
			Message: v.Name() + " is sized with runtime." + sizer + "() but indexed by percpu." + fn + "(): " +
				what + " can exceed NumCPU and GOMAXPROCS (cpusets, offline CPUs, containers); size per-CPU slices with percpu.Shards()",
			Related: []analysis.RelatedInformation{{Pos: mk.Pos(), End: mk.End(), Message: "sized here"}},
		})
	}
	return nil, nil
}

// collectWrites returns, for each variable and field of the package, the
// values stored in it.
func collectWrites(info *types.Info, in *inspector.Inspector) map[*types.Var][]write {
	writes := make(map[*types.Var][]write)
	add := func(lhs ast.Expr, rhs ast.Expr) {
		if v := varOf(info, lhs); v != nil {
			writes[v] = append(writes[v], write{rhs})
		}
	}
	filter := []ast.Node{
		(*ast.AssignStmt)(nil),
		(*ast.ValueSpec)(nil),
		(*ast.CompositeLit)(nil),
		(*ast.RangeStmt)(nil),
		(*ast.IncDecStmt)(nil),
		(*ast.UnaryExpr)(nil),
	}
	for cur := range in.Root().Preorder(filter...) {
		switch n := cur.Node().(type) {
		case *ast.AssignStmt:
			paired := (n.Tok == token.ASSIGN || n.Tok == token.DEFINE) && len(n.Lhs) == len(n.Rhs)
			for i, l := range n.Lhs {
				if paired {
					add(l, n.Rhs[i])
				} else {
					add(l, nil)
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				switch len(n.Values) {
				case 0: // the zero value
				case len(n.Names):
					add(id, n.Values[i])
				default:
					add(id, nil)
				}
			}
		case *ast.CompositeLit:
			st, ok := typeUnder(info.TypeOf(n)).(*types.Struct)
			if !ok {
				continue
			}
			for i, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if key, ok := kv.Key.(*ast.Ident); ok {
						if f, ok := info.ObjectOf(key).(*types.Var); ok {
							writes[f.Origin()] = append(writes[f.Origin()], write{kv.Value})
						}
					}
				} else if i < st.NumFields() {
					f := st.Field(i).Origin()
					writes[f] = append(writes[f], write{e})
				}
			}
		case *ast.RangeStmt:
			if n.Key != nil {
				add(n.Key, nil)
			}
			if n.Value != nil {
				add(n.Value, nil)
			}
		case *ast.IncDecStmt:
			add(n.X, nil)
		case *ast.UnaryExpr:
			if n.Op == token.AND {
				add(n.X, nil)
			}
		}
	}
	return writes
}

// typeUnder returns the underlying type of t, or of what t points to.
func typeUnder(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	if p, ok := t.Underlying().(*types.Pointer); ok {
		return p.Elem().Underlying()
	}
	return t.Underlying()
}

// numCPUMake returns e if it is make([]T, n, ...) with n counting
// runtime.NumCPU() or runtime.GOMAXPROCS(), else nil.
func numCPUMake(info *types.Info, writes map[*types.Var][]write, e ast.Expr) *ast.CallExpr {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) < 2 {
		return nil
	}
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return nil
	}
	if b, ok := info.Uses[id].(*types.Builtin); !ok || b.Name() != "make" {
		return nil
	}
	if findNumCPU(info, writes, call.Args[1], nil) == nil {
		return nil
	}
	return call
}

// findNumCPU returns the call of runtime.NumCPU or runtime.GOMAXPROCS in
// e, if e is built only from such calls, constants, arithmetic,
// conversions, and local variables that hold only such expressions (but
// not percpu.Shards() or any other call: min and max are calls); else nil.
func findNumCPU(info *types.Info, writes map[*types.Var][]write, e ast.Expr, seen map[*types.Var]bool) ast.Expr {
	var found ast.Expr
	var ok func(e ast.Expr) bool
	ok = func(e ast.Expr) bool {
		e = ast.Unparen(e)
		if tv, has := info.Types[e]; has && tv.Value != nil {
			return true // a constant
		}
		switch e := e.(type) {
		case *ast.BinaryExpr:
			return ok(e.X) && ok(e.Y)
		case *ast.UnaryExpr:
			return ok(e.X)
		case *ast.CallExpr:
			if _, is := isCallTo(info, e, "runtime", "NumCPU", "GOMAXPROCS"); is {
				if found == nil {
					found = e
				}
				return true
			}
			if tv, has := info.Types[e.Fun]; has && tv.IsType() && len(e.Args) == 1 {
				return ok(e.Args[0]) // a conversion
			}
			return false
		case *ast.Ident:
			v, is := info.ObjectOf(e).(*types.Var)
			if !is || v.Parent() == nil || seen[v] || len(writes[v]) == 0 {
				return false
			}
			if seen == nil {
				seen = make(map[*types.Var]bool)
			}
			seen[v] = true
			defer delete(seen, v)
			for _, w := range writes[v] {
				if w.rhs == nil {
					return false
				}
				x := findNumCPU(info, writes, w.rhs, seen)
				if x == nil {
					return false
				}
				if found == nil {
					found = x
				}
			}
			return true
		}
		return false
	}
	if !ok(e) {
		return nil
	}
	return found
}

// isNil reports whether e is the predeclared nil.
func isNil(info *types.Info, e ast.Expr) bool {
	tv, ok := info.Types[ast.Unparen(e)]
	return ok && tv.IsNil()
}

// cpuIndex returns "CPU", "CID" or "Node" if e is a call of that percpu
// function, or a variable (not a field) that only ever holds the result of
// such calls; else "".
func cpuIndex(info *types.Info, writes map[*types.Var][]write, e ast.Expr) string {
	if fn, ok := isCallTo(info, e, percpuPath, "CPU", "CID", "Node"); ok {
		return fn
	}
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return ""
	}
	v, ok := info.ObjectOf(id).(*types.Var)
	if !ok || v.IsField() || len(writes[v]) == 0 {
		return ""
	}
	fn := ""
	for _, w := range writes[v] {
		f, ok := isCallTo(info, w.rhs, percpuPath, "CPU", "CID", "Node")
		if w.rhs == nil || !ok {
			return ""
		}
		if fn == "" {
			fn = f
		}
	}
	return fn
}
