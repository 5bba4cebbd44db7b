// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// CopyAnalyzer reports copies of percpu's value types (Counter,
// FloatCounter, RWMutex, Pool, Values, and arrays and structs that hold
// them) in the places that go vet's copylocks check does not look at.
var CopyAnalyzer = &analysis.Analyzer{
	Name:     "percpucopy",
	Doc:      "report copies of percpu values that go vet's copylocks misses\n\nCounter, FloatCounter, RWMutex, Pool and Values must not be copied.\nThis check reports channel sends, type switches, *f() dereferences,\ncopy, append, slice-to-array conversions and map keys that copy one;\ncopylocks reports the rest.",
	URL:      "https://github.com/gorseq/gorseq/tree/main/cmd/percpuvet",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runCopy,
}

func runCopy(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	c := &copyChecker{pass: pass, qf: func(p *types.Package) string {
		if p == pass.Pkg {
			return ""
		}
		return p.Name()
	}}
	filter := []ast.Node{
		(*ast.SendStmt)(nil),
		(*ast.TypeSwitchStmt)(nil),
		(*ast.AssignStmt)(nil),
		(*ast.ValueSpec)(nil),
		(*ast.ReturnStmt)(nil),
		(*ast.CompositeLit)(nil),
		(*ast.CallExpr)(nil),
		(*ast.IncDecStmt)(nil),
	}
	for cur := range in.Root().Preorder(filter...) {
		switch n := cur.Node().(type) {
		case *ast.SendStmt:
			// copylocks has no case for send statements.
			if c.copies(n.Value) || isDerefOfCall(pass.TypesInfo, n.Value) {
				c.report(n.Value, "sending a %s on a channel copies it; send a pointer")
			}
		case *ast.TypeSwitchStmt:
			c.typeSwitch(n)
		case *ast.AssignStmt:
			c.derefs(n.Rhs...)
			for _, l := range n.Lhs {
				c.mapKey(l)
			}
		case *ast.IncDecStmt:
			c.mapKey(n.X)
		case *ast.ValueSpec:
			c.derefs(n.Values...)
		case *ast.ReturnStmt:
			c.derefs(n.Results...)
		case *ast.CompositeLit:
			c.compositeLit(n)
		case *ast.CallExpr:
			c.call(n)
		}
	}
	return nil, nil
}

type copyChecker struct {
	pass *analysis.Pass
	qf   types.Qualifier
}

// report reports e if its type holds a percpu value type; format has one
// %s, for what is copied.
func (c *copyChecker) report(e ast.Expr, format string) {
	c.reportType(e, c.pass.TypesInfo.TypeOf(e), format)
}

func (c *copyChecker) reportType(n ast.Node, t types.Type, format string) {
	if t == nil {
		return
	}
	if what := containedNoCopy(t, c.qf); what != "" {
		c.pass.ReportRangef(n, format, what)
	}
}

// copies reports whether e copies an existing value where copylocks
// looks (its lockPathRhs): not a composite literal, not a call's result,
// not *f(). The caller checks the type.
func (c *copyChecker) copies(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.CompositeLit, *ast.CallExpr:
		return false
	case *ast.StarExpr:
		if _, ok := ast.Unparen(e.X).(*ast.CallExpr); ok {
			return false
		}
	}
	tv, ok := c.pass.TypesInfo.Types[ast.Unparen(e)]
	return ok && tv.IsValue()
}

// isDerefOfCall reports whether e is *f(...), which copylocks skips
// everywhere (f may return a pointer to a zero value); *new(T) is left
// out: it is one.
func isDerefOfCall(info *types.Info, e ast.Expr) bool {
	star, ok := ast.Unparen(e).(*ast.StarExpr)
	if !ok {
		return false
	}
	call, ok := ast.Unparen(star.X).(*ast.CallExpr)
	if !ok {
		return false
	}
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if b, ok := info.Uses[id].(*types.Builtin); ok && b.Name() == "new" {
			return false
		}
	}
	return true
}

// derefs reports the *f() among es (right sides, values, results, call
// arguments, literal elements: where copylocks looks, except there).
func (c *copyChecker) derefs(es ...ast.Expr) {
	for _, e := range es {
		if isDerefOfCall(c.pass.TypesInfo, e) {
			c.report(e, "dereferencing the pointer copies a %s; keep the pointer")
		}
	}
}

// typeSwitch reports the clauses of a type switch that bind a variable to
// a percpu value type and use it: the variable is a copy of the value in
// the interface.
func (c *copyChecker) typeSwitch(ts *ast.TypeSwitchStmt) {
	if _, ok := ts.Assign.(*ast.AssignStmt); !ok {
		return // no variable
	}
	info := c.pass.TypesInfo
	for _, s := range ts.Body.List {
		cc := s.(*ast.CaseClause)
		if len(cc.List) != 1 {
			continue // the variable has the interface type
		}
		v, ok := info.Implicits[cc].(*types.Var)
		if !ok {
			continue
		}
		used := false
		for _, st := range cc.Body {
			ast.Inspect(st, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && info.Uses[id] == v {
					used = true
				}
				return !used
			})
		}
		if used {
			c.reportType(cc.List[0], v.Type(), "the type switch copies a %s out of the interface into "+v.Name()+"; store a pointer in the interface")
		}
	}
}

// compositeLit reports *f() elements and copied map keys.
func (c *copyChecker) compositeLit(cl *ast.CompositeLit) {
	_, isMap := typeUnder(c.pass.TypesInfo.TypeOf(cl)).(*types.Map)
	for _, e := range cl.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if isMap && (c.copies(kv.Key) || isDerefOfCall(c.pass.TypesInfo, kv.Key)) {
				c.report(kv.Key, "a map key copies a %s; key the map by pointer")
			}
			e = kv.Value
		}
		c.derefs(e)
	}
}

// mapKey reports m[k] = ..., m[k]++ and the like, where k is copied.
func (c *copyChecker) mapKey(lhs ast.Expr) {
	ix, ok := ast.Unparen(lhs).(*ast.IndexExpr)
	if !ok {
		return
	}
	if _, ok := typeUnder(c.pass.TypesInfo.TypeOf(ix.X)).(*types.Map); !ok {
		return
	}
	if c.copies(ix.Index) || isDerefOfCall(c.pass.TypesInfo, ix.Index) {
		c.report(ix.Index, "a map key copies a %s; key the map by pointer")
	}
}

// call reports *f() arguments, and the copies that the builtins copy and
// append and slice-to-array conversions make of the elements of slices.
func (c *copyChecker) call(call *ast.CallExpr) {
	info := c.pass.TypesInfo
	if tv, ok := info.Types[call.Fun]; ok && tv.IsType() {
		// A conversion. copylocks checks its argument, which a
		// slice-to-array conversion copies the elements of.
		if len(call.Args) == 1 {
			if _, ok := tv.Type.Underlying().(*types.Array); ok {
				if s, ok := info.TypeOf(call.Args[0]).Underlying().(*types.Slice); ok {
					c.reportType(call, s.Elem(), "converting the slice to an array copies each %s; use a pointer to an array")
				}
			}
		}
		c.derefs(call.Args...)
		return
	}
	var builtin string
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if b, ok := info.Uses[id].(*types.Builtin); ok {
			builtin = b.Name()
		}
	}
	switch builtin {
	case "len", "cap", "new":
		return // copylocks skips these too
	case "copy":
		if len(call.Args) == 2 {
			if s, ok := info.TypeOf(call.Args[0]).Underlying().(*types.Slice); ok {
				c.reportType(call, s.Elem(), "copy copies each %s; use a slice of pointers")
			}
		}
	case "append":
		if len(call.Args) == 0 {
			break
		}
		s, ok := typeUnder(info.TypeOf(call.Args[0])).(*types.Slice)
		if !ok {
			break
		}
		if call.Ellipsis.IsValid() {
			c.reportType(call, s.Elem(), "append copies each %s of the appended slice; use a slice of pointers")
			break
		}
		reported := false
		for _, a := range call.Args[1:] {
			// copylocks or derefs reports the argument.
			reported = reported || c.copies(a) || isDerefOfCall(info, a)
		}
		if !reported {
			c.reportType(call, s.Elem(), "append may move the slice to a new array, copying each %s; make the slice with its final length, or use a slice of pointers")
		}
	}
	c.derefs(call.Args...)
}
