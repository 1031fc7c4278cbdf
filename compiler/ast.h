/* ast.h: the syntax tree of a .lyr file, as the parser builds it.
 *
 * The parser knows no op, option or initializer by name: a call such as
 * `dense(x, 128, bias=0)` or `uniform(-1, 1)` or `sgd(lr=0.1)` is a Value of
 * kind V_CALL with positional and keyword arguments, and the checker gives it
 * a meaning.  Every node keeps its line and column.  All nodes live in one
 * Arena and are freed together.
 */
#ifndef LC_AST_H
#define LC_AST_H

#include "arena.h"
#include "diag.h"

typedef enum {
    V_NUM,   /* a folded constant expression: num */
    V_NAME,  /* a bare name: name */
    V_STR,   /* "a string": name holds the text without quotes */
    V_CALL,  /* name(args): name, args, nargs */
    V_LIST   /* [items]: items, nitems (shapes and nested literals) */
} ValueKind;

typedef struct Value Value;

typedef struct {
    const char *key;   /* NULL for a positional argument */
    Loc key_loc;       /* where the key is (positional: where the value is) */
    Value *value;
} Arg;

struct Value {
    ValueKind kind;
    Loc loc;           /* first character of the value */
    double num;
    const char *name;
    Arg *args;
    int nargs;
    Value **items;
    int nitems;
};

typedef enum { S_MODEL, S_INPUT, S_WEIGHT, S_LAYER, S_OUTPUT, S_LOSS, S_TRAIN } StmtKind;

typedef struct {
    StmtKind kind;
    Loc loc;           /* the statement's first token (`frozen` or the keyword) */
    const char *name;  /* model/input/weight/layer/output NAME; loss KIND */
    Loc name_loc;
    Value *shape;      /* input, weight: a V_LIST of dimensions */
    int frozen;        /* weight; layer: every weight the layer creates */
    Value *init;       /* weight `= INIT`, or NULL */
    Value *call;       /* layer, output `= OP(ARGS)` (NULL when output marks a layer);
                          loss: V_CALL whose name is the kind and args the layer */
    Arg *entries;      /* train: KEY = VALUE entries */
    int nentries;
} Stmt;

typedef struct {
    Stmt **stmts;
    int nstmts;
} Program;

/* Parses src.  Syntax errors go to diags (several per run, thanks to error
 * recovery at `;` and `}`).  Always returns a Program (possibly partial) whose
 * nodes are allocated in arena.  Never exits, never crashes on any input. */
Program *parse_program(const Source *src, Diags *diags, Arena *arena);

const char *stmt_kind_name(StmtKind k);

#endif
