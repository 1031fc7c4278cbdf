/* lyr.y: the grammar of .lyr files (SPEC.md section 1), built into a syntax
 * tree (ast.h).
 *
 * The parser knows no op, option or initializer by name: `dense(x, 128)`,
 * `uniform(-1, 1)` and `sgd(lr=0.1)` are all calls, and the checker gives
 * them a meaning.  Constant expressions are folded here, so the tree holds
 * numbers, never arithmetic.
 *
 * Errors never stop the parse early: the rules `error ';'` and `error '}'`
 * resynchronise at the end of a statement so that one run reports every
 * broken statement.  Syntax messages are built by yyreport_syntax_error
 * below ("expected ';' before 'layer'"), with LAC so that the list of
 * expected tokens is exact.
 */

%define api.pure full
%locations
%define parse.error custom
%define parse.lac full
%lex-param {yyscan_t scanner}
%parse-param {yyscan_t scanner} {ParseCtx *ctx}

%code requires {
#include "ast.h"

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* A number or a folded constant expression.  ok = 0 when an error was
 * already reported inside it, so that enclosing operators stay quiet. */
typedef struct {
    double v;
    int ok;
} Num;

/* Growable lists for the semantic values of `args` and `items`. */
typedef struct {
    Arg *items;
    int n, cap;
    const char *first_key;  /* the first option, to reject positionals after it */
} ArgList;

typedef struct {
    Value **items;
    int n, cap;
} ValueList;

/* Everything one parse needs: shared by the scanner (as its yyextra) and
 * the parser (as its parse-param). */
typedef struct ParseCtx {
    const Source *src;
    Diags *diags;
    Arena *arena;
    Program *program;
    int stmt_cap;

    /* scanner state */
    int line, col;          /* where the next byte to scan is */
    Loc tok_end;            /* just after the last token returned */
    Loc prev_tok_end;       /* just after the token before that one */
    const char *tok_text;   /* the last token's text, for "before 'x'" */
    int tok_len;
    int depth;              /* open '(' and '[' in this statement */
    int depth_reported;

    Stmt *train;            /* the train statement being parsed */
    ArgList train_entries;  /* its entries, with room to grow */

    int nerrors;            /* errors this parse reported */
    int gave_up;            /* too many errors: the scanner returns end of file */
} ParseCtx;

/* Most nested '(' and '[' accepted: deeper input is an error, not a stack
 * overflow. */
#define LC_MAX_NESTING 64
/* After this many errors the parse stops: a binary file would otherwise
 * produce one error per byte. */
#define LC_MAX_PARSE_ERRORS 50
/* Longest name accepted. */
#define LC_MAX_NAME 255
}

%code provides {
int yylex(YYSTYPE *yylval, YYLTYPE *yylloc, yyscan_t scanner);

/* Reports an error found while parsing, counting it against
 * LC_MAX_PARSE_ERRORS (defined in lyr.y). */
void parse_error(ParseCtx *ctx, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The readable name of token kind `kind` ("';'", "name", "'layer'",
 * "end of file"), as syntax errors spell it (defined in lyr.y). */
const char *token_name(int kind);

/* The scanner over ctx->src (defined in lyr.l); scanner_close frees it. */
yyscan_t scanner_open(ParseCtx *ctx);
void scanner_close(yyscan_t scanner);
}

%code {
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void yyerror(YYLTYPE *loc, yyscan_t scanner, ParseCtx *ctx, const char *msg);

static Loc loc_of(YYLTYPE l)
{
    return (Loc){ l.first_line, l.first_column };
}

static Value *new_value(ParseCtx *ctx, ValueKind kind, YYLTYPE loc)
{
    Value *v = arena_alloc(ctx->arena, sizeof *v);
    v->kind = kind;
    v->loc = loc_of(loc);
    return v;
}

static Value *new_num(ParseCtx *ctx, Num n, YYLTYPE loc)
{
    Value *v = new_value(ctx, V_NUM, loc);
    v->num = n.ok ? n.v : 0;
    return v;
}

static Value *new_name(ParseCtx *ctx, ValueKind kind, const char *name, YYLTYPE loc)
{
    Value *v = new_value(ctx, kind, loc);
    v->name = name;
    return v;
}

static Value *new_call(ParseCtx *ctx, const char *name, ArgList *args, YYLTYPE loc)
{
    Value *v = new_name(ctx, V_CALL, name, loc);
    if (args) {
        v->args = args->items;
        v->nargs = args->n;
    }
    return v;
}

static Value *new_list(ParseCtx *ctx, ValueList *items, YYLTYPE loc)
{
    Value *v = new_value(ctx, V_LIST, loc);
    if (items) {
        v->items = items->items;
        v->nitems = items->n;
    }
    return v;
}

static ArgList *new_arg_list(ParseCtx *ctx)
{
    return arena_alloc(ctx->arena, sizeof(ArgList));
}

static ValueList *new_value_list(ParseCtx *ctx)
{
    return arena_alloc(ctx->arena, sizeof(ValueList));
}

/* Options come after positional arguments so that a call reads like
 * Python's: the checker can then match positionals by place. */
static ArgList *append_arg(ParseCtx *ctx, ArgList *list, Arg arg)
{
    if (!arg.key && list->first_key)
        parse_error(ctx, arg.key_loc,
                    "positional argument after the option '%s': "
                    "positional arguments come first, options (key = value) last",
                    list->first_key);
    if (arg.key && !list->first_key)
        list->first_key = arg.key;
    arena_grow(ctx->arena, (void **)&list->items, &list->cap, list->n, sizeof(Arg));
    list->items[list->n++] = arg;
    return list;
}

static ValueList *append_value(ParseCtx *ctx, ValueList *list, Value *v)
{
    arena_grow(ctx->arena, (void **)&list->items, &list->cap, list->n, sizeof(Value *));
    list->items[list->n++] = v;
    return list;
}

static Arg positional(Value *v)
{
    return (Arg){ NULL, v->loc, v };
}

static Arg option(const char *key, YYLTYPE key_loc, Value *v)
{
    return (Arg){ key, loc_of(key_loc), v };
}

static Stmt *new_stmt(ParseCtx *ctx, StmtKind kind, YYLTYPE loc, const char *name,
                      YYLTYPE name_loc)
{
    Stmt *s = arena_alloc(ctx->arena, sizeof *s);
    s->kind = kind;
    s->loc = loc_of(loc);
    s->name = name;
    s->name_loc = loc_of(name_loc);
    return s;
}

/* Statements are added as soon as they are reduced, so that a parse that
 * stops early (end of file inside a statement) still returns the ones
 * before it. */
static void add_stmt(ParseCtx *ctx, Stmt *s)
{
    Program *p = ctx->program;
    arena_grow(ctx->arena, (void **)&p->stmts, &ctx->stmt_cap, p->nstmts, sizeof(Stmt *));
    p->stmts[p->nstmts++] = s;
}

static Num fold(ParseCtx *ctx, Num a, int op, Num b, YYLTYPE op_loc)
{
    if (!a.ok || !b.ok)
        return (Num){ 0, 0 };
    if (op == '/' && b.v == 0) {
        parse_error(ctx, loc_of(op_loc), "division by zero in a constant expression");
        return (Num){ 0, 0 };
    }
    double r = op == '+' ? a.v + b.v
             : op == '-' ? a.v - b.v
             : op == '*' ? a.v * b.v
             : a.v / b.v;
    if (!isfinite(r)) {
        parse_error(ctx, loc_of(op_loc), "constant expression out of range: %g %c %g",
                    a.v, op, b.v);
        return (Num){ 0, 0 };
    }
    return (Num){ r, 1 };
}
}

%union {
    Num num;
    char *str;
    Value *value;
    ArgList *args;
    ValueList *items;
    Stmt *stmt;
}

/* The aliases are what syntax errors print: "expected name before ';'". */
%token <str> NAME "name"
%token <num> NUMBER "number"
%token <str> STRING "string"
%token MODEL "'model'" INPUT "'input'" WEIGHT "'weight'" FROZEN "'frozen'"
%token LAYER "'layer'" OUTPUT "'output'" LOSS "'loss'" TRAIN "'train'"
/* Returned by the scanner in place of a '(' or '[' nested too deep; it has
 * already reported the error, and no rule accepts this token. */
%token NESTING_LIMIT "nesting too deep"

%type <num> expr
%type <value> value call list init_opt
%type <stmt> weight
%type <args> args args_opt
%type <items> items items_opt

%precedence NO_SEMICOLON
%precedence ';'
%left '+' '-'
%left '*' '/'
%precedence UNARY

%%

/* program = stmt* */
program
    : %empty
    | program stmt
    ;

/* stmt = "model" NAME ";"
 *      | "input" NAME list ";"
 *      | "frozen"? "weight" NAME list ("=" value)? ";"
 *      | "frozen"? "layer" NAME "=" call ";"
 *      | "output" NAME ("=" call)? ";"
 *      | "loss" NAME "(" args? ")" ";"
 *      | "train" "{" entry* "}" ";"?
 *      | ";"                      (empty: a warning)
 */
stmt
    : MODEL NAME ';'
        { add_stmt(ctx, new_stmt(ctx, S_MODEL, @1, $2, @2)); }
    | INPUT NAME list ';'
        {
            Stmt *s = new_stmt(ctx, S_INPUT, @1, $2, @2);
            s->shape = $3;
            add_stmt(ctx, s);
        }
    | WEIGHT weight
        { add_stmt(ctx, $2); }
    | FROZEN WEIGHT weight
        {
            $3->loc = loc_of(@1);
            $3->frozen = 1;
            add_stmt(ctx, $3);
        }
    | LAYER NAME '=' call ';'
        {
            Stmt *s = new_stmt(ctx, S_LAYER, @1, $2, @2);
            s->call = $4;
            add_stmt(ctx, s);
        }
    | FROZEN LAYER NAME '=' call ';'
        {
            Stmt *s = new_stmt(ctx, S_LAYER, @1, $3, @3);
            s->call = $5;
            s->frozen = 1;
            add_stmt(ctx, s);
        }
    | OUTPUT NAME ';'
        { add_stmt(ctx, new_stmt(ctx, S_OUTPUT, @1, $2, @2)); }
    | OUTPUT NAME '=' call ';'
        {
            Stmt *s = new_stmt(ctx, S_OUTPUT, @1, $2, @2);
            s->call = $4;
            add_stmt(ctx, s);
        }
    | LOSS NAME '(' args_opt ')' ';'
        {
            Stmt *s = new_stmt(ctx, S_LOSS, @1, $2, @2);
            s->call = new_call(ctx, $2, $4, @2);
            add_stmt(ctx, s);
        }
    | train_head entries '}' semicolon_opt
    | train_head entries error '}' semicolon_opt
        { yyerrok; }
    | ';'
        { diag_warning(ctx->diags, loc_of(@1), "empty statement (a stray ';')"); }
    | error ';'
        { yyerrok; }
    | error '}' semicolon_opt
        { yyerrok; }
    ;

/* The train statement is added when its block opens and its entries as
 * they are parsed, so that a block cut short still keeps what came before. */
train_head
    : TRAIN '{'
        {
            ctx->train = new_stmt(ctx, S_TRAIN, @1, "train", @1);
            ctx->train_entries = (ArgList){ 0 };
            add_stmt(ctx, ctx->train);
        }
    ;

entries
    : %empty
    | entries entry
    ;

/* entry = NAME "=" value ";" */
entry
    : NAME '=' value ';'
        {
            ArgList *list = append_arg(ctx, &ctx->train_entries, option($1, @1, $3));
            ctx->train->entries = list->items;
            ctx->train->nentries = list->n;
        }
    | error ';'
        { yyerrok; }
    ;

/* weight = NAME list ("=" value)? ";"  (after "frozen"? "weight") */
weight
    : NAME list init_opt ';'
        {
            /* @0 is the `weight` keyword; `frozen` callers move loc back to it */
            $$ = new_stmt(ctx, S_WEIGHT, @0, $1, @1);
            $$->shape = $2;
            $$->init = $3;
        }
    ;

init_opt
    : %empty
        { $$ = NULL; }
    | '=' value
        { $$ = $2; }
    ;

/* `train { ... };` takes its ';' (shift wins over the empty statement). */
semicolon_opt
    : %empty %prec NO_SEMICOLON
    | ';'
    ;

/* call = NAME "(" args? ")" */
call
    : NAME '(' args_opt ')'
        { $$ = new_call(ctx, $1, $3, @1); }
    ;

args_opt
    : %empty
        { $$ = NULL; }
    | args
    ;

/* args = arg ("," arg)*
 * arg  = value | NAME "=" value */
args
    : value
        { $$ = append_arg(ctx, new_arg_list(ctx), positional($1)); }
    | NAME '=' value
        { $$ = append_arg(ctx, new_arg_list(ctx), option($1, @1, $3)); }
    | args ',' value
        { $$ = append_arg(ctx, $1, positional($3)); }
    | args ',' NAME '=' value
        { $$ = append_arg(ctx, $1, option($3, @3, $5)); }
    ;

/* value = expr | NAME | STRING | call | list */
value
    : expr
        { $$ = new_num(ctx, $1, @1); }
    | NAME
        { $$ = new_name(ctx, V_NAME, $1, @1); }
    | STRING
        { $$ = new_name(ctx, V_STR, $1, @1); }
    | call
    | list
    ;

/* list = "[" (value ("," value)*)? "]" */
list
    : '[' items_opt ']'
        { $$ = new_list(ctx, $2, @1); }
    ;

items_opt
    : %empty
        { $$ = NULL; }
    | items
    ;

items
    : value
        { $$ = append_value(ctx, new_value_list(ctx), $1); }
    | items ',' value
        { $$ = append_value(ctx, $1, $3); }
    ;

/* expr = NUMBER | "(" expr ")" | ("-" | "+") expr | expr ("+" | "-" | "*" | "/") expr
 * folded as it is reduced. */
expr
    : NUMBER
    | '(' expr ')'
        { $$ = $2; }
    | '-' expr %prec UNARY
        { $$ = $2; $$.v = -$2.v; }
    | '+' expr %prec UNARY
        { $$ = $2; }
    | expr '+' expr
        { $$ = fold(ctx, $1, '+', $3, @2); }
    | expr '-' expr
        { $$ = fold(ctx, $1, '-', $3, @2); }
    | expr '*' expr
        { $$ = fold(ctx, $1, '*', $3, @2); }
    | expr '/' expr
        { $$ = fold(ctx, $1, '/', $3, @2); }
    ;

%%

void parse_error(ParseCtx *ctx, Loc loc, const char *fmt, ...)
{
    if (ctx->gave_up)
        return;
    if (ctx->nerrors >= LC_MAX_PARSE_ERRORS) {
        diag_error(ctx->diags, loc, "too many errors (%d); stopping here",
                   LC_MAX_PARSE_ERRORS);
        ctx->gave_up = 1;
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(ctx->diags, loc, "%s", msg);
    ctx->nerrors++;
}

const char *token_name(int kind)
{
    if (kind == YYEOF)
        return "end of file";
    return yysymbol_name(YYTRANSLATE(kind));
}

/* bison calls yyerror only when its stack is full, which nesting deeper
 * than the scanner's limit (a long run of unary minus signs) can do. */
static void yyerror(YYLTYPE *loc, yyscan_t scanner, ParseCtx *ctx, const char *msg)
{
    (void)scanner;
    if (strcmp(msg, "memory exhausted") == 0)
        parse_error(ctx, loc_of(*loc), "expression nested too deeply for the parser");
    else
        parse_error(ctx, loc_of(*loc), "%s", msg);
}

static int is_keyword(yysymbol_kind_t sym)
{
    switch (sym) {
    case YYSYMBOL_MODEL: case YYSYMBOL_INPUT: case YYSYMBOL_WEIGHT:
    case YYSYMBOL_FROZEN: case YYSYMBOL_LAYER: case YYSYMBOL_OUTPUT:
    case YYSYMBOL_LOSS: case YYSYMBOL_TRAIN:
        return 1;
    default:
        return 0;
    }
}

/* Tokens that can start a value: listed together as "a value". */
static int starts_value(yysymbol_kind_t sym)
{
    return sym == YYSYMBOL_NUMBER || sym == YYSYMBOL_NAME || sym == YYSYMBOL_STRING
        || sym == YYTRANSLATE('(') || sym == YYTRANSLATE('[')
        || sym == YYTRANSLATE('-') || sym == YYTRANSLATE('+');
}

static int is_binary_operator(yysymbol_kind_t sym)
{
    return sym == YYTRANSLATE('+') || sym == YYTRANSLATE('-')
        || sym == YYTRANSLATE('*') || sym == YYTRANSLATE('/');
}

/* The unexpected token as the user wrote it: 'layer', '128', "str". */
static void describe_token(ParseCtx *ctx, yysymbol_kind_t sym, char *buf, size_t size)
{
    if (sym == YYSYMBOL_YYEOF) {
        snprintf(buf, size, "end of file");
        return;
    }
    int len = ctx->tok_len;
    const char *ellipsis = "";
    if (len > 40) {
        len = 40;
        ellipsis = "...";
    }
    if (sym == YYSYMBOL_STRING)
        snprintf(buf, size, "%.*s%s", len, ctx->tok_text, ellipsis);
    else
        snprintf(buf, size, "'%.*s%s'", len, ctx->tok_text, ellipsis);
}

/* "';'", "';' or ','", "a value or ']'": the tokens the parser could have
 * accepted, with the many that start a value said as "a value", and binary
 * operators left out (after a number they are always possible, and rarely
 * what was missing).  Returns 0 when the list would be too long to help. */
static int describe_expected(const yysymbol_kind_t *expected, int n, char *buf,
                             size_t size)
{
    int value_expected = 0, after_expr = 0, in_list = 0;
    for (int i = 0; i < n; i++) {
        value_expected |= expected[i] == YYSYMBOL_NUMBER;
        after_expr |= expected[i] == YYTRANSLATE('*');
        in_list |= expected[i] == YYTRANSLATE(',');
    }
    const char *names[YYNTOKENS + 1];
    int count = 0, value_said = 0;
    for (int i = 0; i < n; i++) {
        yysymbol_kind_t sym = expected[i];
        if (after_expr && is_binary_operator(sym))
            continue;
        /* after a name in arguments, "x(" and "x =" are possible but what
         * is missing is nearly always the ')' or the ',' */
        if (in_list && (sym == YYTRANSLATE('(') || sym == YYTRANSLATE('=')))
            continue;
        if (value_expected && starts_value(sym)) {
            if (!value_said)
                names[count++] = "a value";
            value_said = 1;
            continue;
        }
        names[count++] = yysymbol_name(sym);
    }
    if (count == 0 || count > 4)
        return 0;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && used < size; i++) {
        const char *sep = i == 0 ? "" : i == count - 1 ? " or " : ", ";
        used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, names[i]);
    }
    return 1;
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, yyscan_t scanner,
                                 ParseCtx *ctx)
{
    (void)scanner;
    yysymbol_kind_t unexpected = yypcontext_token(yyctx);
    /* the scanner has said what is wrong with these */
    if (unexpected == YYSYMBOL_NESTING_LIMIT || ctx->gave_up)
        return 0;

    Loc loc = loc_of(*yypcontext_location(yyctx));
    yysymbol_kind_t expected[YYNTOKENS];
    int n = yypcontext_expected_tokens(yyctx, expected, YYNTOKENS);
    if (n < 0)
        return n;

    if (is_keyword(unexpected)) {
        for (int i = 0; i < n; i++) {
            if (expected[i] == YYSYMBOL_NAME) {
                parse_error(ctx, loc, "'%.*s' is a keyword and cannot be used as a name",
                            ctx->tok_len, ctx->tok_text);
                return 0;
            }
        }
    }

    char what[128], wanted[256];
    describe_token(ctx, unexpected, what, sizeof what);
    int have_wanted = describe_expected(expected, n, wanted, sizeof wanted);
    if (unexpected == YYSYMBOL_YYEOF) {
        if (have_wanted)
            parse_error(ctx, loc, "syntax error: unexpected end of file, expected %s", wanted);
        else
            parse_error(ctx, loc, "syntax error: unexpected end of file");
        return 0;
    }
    /* A token missing at the end of a line is reported where it is missing,
     * as gcc does, not at the start of the next line. */
    if (loc.line > ctx->prev_tok_end.line && ctx->prev_tok_end.line > 0)
        loc = ctx->prev_tok_end;
    if (have_wanted)
        parse_error(ctx, loc, "syntax error: expected %s before %s", wanted, what);
    else
        parse_error(ctx, loc, "syntax error: unexpected %s", what);
    return 0;
}
