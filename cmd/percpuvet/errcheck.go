// Copyright 2026 The gorseq Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
)

// ErrAnalyzer reports restartable operations of percpu (Add,
// CompareAndStore, Pop, Push, StoreCommit, CopyCommit, AddIndirect) whose
// error result is dropped, assigned to _, or assigned to a variable that is
// not read afterwards.
var ErrAnalyzer = &analysis.Analyzer{
	Name:     "percpuerr",
	Doc:      "report unchecked errors of percpu's restartable operations\n\nWithout rseq on the calling thread, Add, CompareAndStore, Pop, Push,\nStoreCommit, CopyCommit and AddIndirect do nothing and return ErrNoRseq;\na caller that drops the error does not notice.",
	URL:      "https://github.com/gorseq/gorseq/tree/main/cmd/percpuvet",
	Requires: []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	Run:      runErr,
}

// restartableOps are the percpu functions whose last result is an error
// that says the operation did nothing.
var restartableOps = map[string]bool{
	"Add":             true,
	"CompareAndStore": true,
	"Pop":             true,
	"Push":            true,
	"StoreCommit":     true,
	"CopyCommit":      true,
	"AddIndirect":     true,
}

func runErr(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	filter := []ast.Node{
		(*ast.ExprStmt)(nil),
		(*ast.GoStmt)(nil),
		(*ast.DeferStmt)(nil),
		(*ast.AssignStmt)(nil),
		(*ast.ValueSpec)(nil),
	}
	for cur := range in.Root().Preorder(filter...) {
		switch n := cur.Node().(type) {
		case *ast.ExprStmt:
			if op := restartableOp(pass.TypesInfo, n.X); op != "" {
				reportErr(pass, n.X, op, "discarded")
			}
		case *ast.GoStmt:
			if op := restartableOp(pass.TypesInfo, n.Call); op != "" {
				reportErr(pass, n.Call, op, "discarded by the go statement")
			}
		case *ast.DeferStmt:
			if op := restartableOp(pass.TypesInfo, n.Call); op != "" {
				reportErr(pass, n.Call, op, "discarded by the defer statement")
			}
		case *ast.AssignStmt:
			if (n.Tok != token.ASSIGN && n.Tok != token.DEFINE) || len(n.Rhs) != 1 || len(n.Lhs) < 2 {
				continue
			}
			if op := restartableOp(pass.TypesInfo, n.Rhs[0]); op != "" {
				checkErrDest(pass, cfgs, cur, n, n.Lhs[len(n.Lhs)-1], op)
			}
		case *ast.ValueSpec:
			if len(n.Values) != 1 || len(n.Names) < 2 {
				continue
			}
			if op := restartableOp(pass.TypesInfo, n.Values[0]); op != "" {
				checkErrDest(pass, cfgs, cur, n, n.Names[len(n.Names)-1], op)
			}
		}
	}
	return nil, nil
}

// restartableOp returns the name of the restartable operation that e calls,
// or "".
func restartableOp(info *types.Info, e ast.Expr) string {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return ""
	}
	if op := percpuFunc(info, call); restartableOps[op] {
		return op
	}
	return ""
}

func reportErr(pass *analysis.Pass, n ast.Node, op, how string) {
	hint := "check err"
	if op == "Add" || op == "AddIndirect" {
		hint = "check err (or use percpu.Counter)"
	}
	pass.ReportRangef(n, "percpu.%s's error is %s: on a thread without rseq it does nothing and returns ErrNoRseq; %s", op, how, hint)
}

// checkErrDest reports the error of op, assigned to dst by stmt (an
// AssignStmt or a ValueSpec at cur), if dst is _ or a local variable that
// is not read after stmt.
func checkErrDest(pass *analysis.Pass, cfgs *ctrlflow.CFGs, cur inspector.Cursor, stmt ast.Node, dst ast.Expr, op string) {
	id, ok := ast.Unparen(dst).(*ast.Ident)
	if !ok {
		return // a field, an element, *p: assume it is looked at
	}
	if id.Name == "_" {
		reportErr(pass, stmt, op, "assigned to _")
		return
	}
	v, ok := pass.TypesInfo.ObjectOf(id).(*types.Var)
	if !ok || v.Parent() == nil || v.Parent() == pass.Pkg.Scope() {
		return // package-level: other code may read it
	}

	// fn is the function that declares v; inner is the innermost
	// function around stmt.
	var fn, inner ast.Node
	for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		if inner == nil {
			inner = c.Node()
		}
		if n := c.Node(); n.Pos() <= v.Pos() && v.Pos() < n.End() {
			fn = n
			break
		}
	}
	if fn == nil {
		return
	}
	ftype, body := funcParts(fn)
	if ftype.Results != nil && ftype.Results.Pos() <= v.Pos() && v.Pos() < ftype.Results.End() {
		return // a named result: every return, and deferred calls, may read it
	}

	u := usesOf(pass.TypesInfo, body, v)
	if !u.read {
		reportErr(pass, stmt, op, "assigned to "+id.Name+", which is never read")
		return
	}
	if inner != fn || u.captured {
		return // a closure or a pointer may read it at any time
	}
	var g *cfg.CFG
	switch fn := fn.(type) {
	case *ast.FuncDecl:
		g = cfgs.FuncDecl(fn)
	case *ast.FuncLit:
		g = cfgs.FuncLit(fn)
	}
	if g == nil {
		return
	}
	for _, b := range g.Blocks {
		for i, n := range b.Nodes {
			if n == stmt {
				if !u.liveAfter(pass.TypesInfo, b, i) {
					reportErr(pass, stmt, op, "assigned to "+id.Name+", which is not read afterwards")
				}
				return
			}
		}
	}
}

// funcParts returns the type and body of a FuncDecl or FuncLit.
func funcParts(fn ast.Node) (*ast.FuncType, *ast.BlockStmt) {
	if d, ok := fn.(*ast.FuncDecl); ok {
		return d.Type, d.Body
	}
	lit := fn.(*ast.FuncLit)
	return lit.Type, lit.Body
}

// varUses describes how a function refers to a local variable.
type varUses struct {
	v *types.Var
	// writes are the identifiers of v that are assigned to (the left
	// side of = and :=, a var declaration's names).
	writes map[*ast.Ident]bool
	// neutral are identifiers of v that the control-flow graph places
	// where they do not kill earlier values (range variables, the
	// variables of a select case), so they count neither as reads nor
	// as writes.
	neutral  map[*ast.Ident]bool
	read     bool // v is read somewhere (any use other than a write)
	captured bool // a function literal refers to v, or its address is taken
}

func usesOf(info *types.Info, body *ast.BlockStmt, v *types.Var) *varUses {
	u := &varUses{v: v, writes: make(map[*ast.Ident]bool), neutral: make(map[*ast.Ident]bool)}
	is := func(e ast.Expr) (*ast.Ident, bool) {
		id, ok := ast.Unparen(e).(*ast.Ident)
		return id, ok && info.ObjectOf(id) == v
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.ASSIGN || n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := is(l); ok {
						u.writes[id] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				if info.ObjectOf(id) == v {
					u.writes[id] = true
				}
			}
		case *ast.RangeStmt:
			for _, e := range []ast.Expr{n.Key, n.Value} {
				if id, ok := is(e); ok && n.Tok != token.ILLEGAL {
					u.neutral[id] = true
				}
			}
		case *ast.UnaryExpr:
			if _, ok := is(n.X); ok && n.Op == token.AND {
				u.captured = true // aliased: reads through the pointer are not seen
			}
		case *ast.CommClause:
			if as, ok := n.Comm.(*ast.AssignStmt); ok {
				for _, l := range as.Lhs {
					if id, ok := is(l); ok {
						u.neutral[id] = true
					}
				}
			}
		}
		return true
	})
	var walk func(n ast.Node, inLit bool)
	walk = func(n ast.Node, inLit bool) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				if !inLit {
					walk(n.Body, true)
					return false
				}
			case *ast.Ident:
				if info.ObjectOf(n) == v {
					if inLit {
						u.captured = true
					}
					if !u.writes[n] && !u.neutral[n] {
						u.read = true
					}
				}
			}
			return true
		})
	}
	walk(body, false)
	return u
}

// effect reports whether the control-flow node n reads v, or else
// overwrites it.
func (u *varUses) effect(info *types.Info, n ast.Node) (reads, writes bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		if _, ok := n.(*ast.FuncLit); ok {
			return false // v is not captured (checked before)
		}
		if id, ok := n.(*ast.Ident); ok && info.ObjectOf(id) == u.v {
			switch {
			case u.neutral[id]:
			case u.writes[id]:
				writes = true
			default:
				reads = true
			}
		}
		return true
	})
	return reads, writes && !reads
}

// liveAfter reports whether v may be read after the i'th node of b before
// it is overwritten.
func (u *varUses) liveAfter(info *types.Info, b *cfg.Block, i int) bool {
	scan := func(nodes []ast.Node) (decided, live bool) {
		for _, n := range nodes {
			if r, w := u.effect(info, n); r || w {
				return true, r
			}
		}
		return false, false
	}
	if decided, live := scan(b.Nodes[i+1:]); decided {
		return live
	}
	seen := make(map[*cfg.Block]bool)
	work := append([]*cfg.Block(nil), b.Succs...)
	for len(work) > 0 {
		b := work[len(work)-1]
		work = work[:len(work)-1]
		if seen[b] {
			continue
		}
		seen[b] = true
		decided, live := scan(b.Nodes)
		if live {
			return true
		}
		if !decided {
			work = append(work, b.Succs...)
		}
	}
	return false
}
