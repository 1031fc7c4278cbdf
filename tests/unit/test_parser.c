/* test_parser.c: the front end: diagnostics (diag.c), the scanner
 * (grammar/lyr.l), the parser and constant folding (grammar/lyr.y). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ast.h"
#include "lex.h"
#include "test.h"

/* Helpers */

/* One parse of a text, with everything it allocated. */
typedef struct {
    Source src;
    Diags diags;
    Arena arena;
    Program *prog;
    char *printed;  /* diags_print output, once asked for */
} Parse;

static void parse_bytes(Parse *p, const char *bytes, size_t n)
{
    memset(p, 0, sizeof *p);
    p->src.path = "t.lyr";
    p->src.text = xmalloc(n + 1);
    memcpy(p->src.text, bytes, n);
    p->src.text[n] = '\0';
    p->src.len = n;
    diags_init(&p->diags, &p->src);
    p->prog = parse_program(&p->src, &p->diags, &p->arena);
}

static void parse_text(Parse *p, const char *text)
{
    parse_bytes(p, text, strlen(text));
}

static void parse_done(Parse *p)
{
    free(p->printed);
    diags_free(&p->diags);
    arena_free(&p->arena);
    source_free(&p->src);
}

/* What diags_print writes, as a string owned by the caller. */
static char *print_diags(Diags *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diags_print(d, f);
    fclose(f);
    return buf;
}

static const char *printed(Parse *p)
{
    if (!p->printed)
        p->printed = print_diags(&p->diags);
    return p->printed;
}

/* The first diagnostic as "line:col: message", to check both at once. */
static const char *first_diag(Parse *p)
{
    static char buf[600];
    if (p->diags.n == 0)
        return "(none)";
    Diag *d = &p->diags.items[0];
    snprintf(buf, sizeof buf, "%d:%d: %s", d->loc.line, d->loc.col, d->msg);
    return buf;
}

static const char *diag_at(Parse *p, int i)
{
    static char buf[600];
    if (i >= p->diags.n)
        return "(none)";
    Diag *d = &p->diags.items[i];
    snprintf(buf, sizeof buf, "%d:%d: %s", d->loc.line, d->loc.col, d->msg);
    return buf;
}

static int loc_is(Loc loc, int line, int col)
{
    return loc.line == line && loc.col == col;
}

/* Tokens of a text, scanned alone. */
typedef struct {
    Source src;
    Diags diags;
    Arena arena;
    LexToken *toks;
    int n;
} Lex;

static void lex_text(Lex *l, const char *text, size_t n)
{
    memset(l, 0, sizeof *l);
    l->src.path = "t.lyr";
    l->src.text = xmalloc(n + 1);
    memcpy(l->src.text, text, n);
    l->src.text[n] = '\0';
    l->src.len = n;
    diags_init(&l->diags, &l->src);
    l->n = lex_source(&l->src, &l->diags, &l->arena, &l->toks);
}

static void lex_done(Lex *l)
{
    diags_free(&l->diags);
    arena_free(&l->arena);
    source_free(&l->src);
}

#define LEX(l, s) lex_text((l), (s), sizeof(s) - 1)

/* Lexer */

TEST(lex_numbers_in_every_form)
{
    Lex l;
    LEX(&l, "12 0.5 .5 1e-3 2.5E+4 7. 3e2");
    CHECK(l.n == 8);
    double want[] = { 12, 0.5, 0.5, 1e-3, 2.5e4, 7, 300 };
    for (int i = 0; i < 7 && i < l.n; i++) {
        CHECK_STR(l.toks[i].name, "number");
        CHECK(l.toks[i].num == want[i]);
    }
    CHECK_STR(l.toks[3].text, "1e-3");
    CHECK(l.diags.n == 0);
    lex_done(&l);
}

TEST(lex_names_and_keywords)
{
    Lex l;
    LEX(&l, "model input weight frozen layer output loss train models _x x9 Layer");
    const char *want[] = { "'model'", "'input'", "'weight'", "'frozen'", "'layer'",
                           "'output'", "'loss'", "'train'", "name", "name", "name",
                           "name", "end of file" };
    CHECK(l.n == 13);
    for (int i = 0; i < 13 && i < l.n; i++)
        CHECK_STR(l.toks[i].name, want[i]);
    CHECK_STR(l.toks[8].text, "models");
    CHECK_STR(l.toks[9].text, "_x");
    CHECK(l.toks[12].kind == 0);
    lex_done(&l);
}

TEST(lex_punctuation)
{
    Lex l;
    LEX(&l, ";,=(){}[]+-*/");
    const char *want[] = { "';'", "','", "'='", "'('", "')'", "'{'", "'}'",
                           "'['", "']'", "'+'", "'-'", "'*'", "'/'" };
    CHECK(l.n == 14);
    for (int i = 0; i < 13 && i < l.n; i++) {
        CHECK_STR(l.toks[i].name, want[i]);
        CHECK(loc_is(l.toks[i].loc, 1, i + 1));
    }
    lex_done(&l);
}

TEST(lex_comments_of_both_kinds)
{
    Lex l;
    LEX(&l, "# a comment: model x;\nmodel // another ; one\n  m # end\n// last");
    CHECK(l.n == 3);
    CHECK_STR(l.toks[0].name, "'model'");
    CHECK(loc_is(l.toks[0].loc, 2, 1));
    CHECK_STR(l.toks[1].text, "m");
    CHECK(loc_is(l.toks[1].loc, 3, 3));
    CHECK(l.diags.n == 0);
    lex_done(&l);
}

TEST(lex_division_is_not_a_comment)
{
    Lex l;
    LEX(&l, "1/2 / 3 //4");
    CHECK(l.n == 6);
    CHECK_STR(l.toks[1].name, "'/'");
    CHECK_STR(l.toks[3].name, "'/'");
    CHECK_STR(l.toks[5].name, "end of file");
    lex_done(&l);
}

TEST(lex_crlf_and_lone_cr)
{
    Lex l;
    LEX(&l, "model m;\r\ninput\rx;\r\n\r\nlayer");
    CHECK(l.n == 8);
    CHECK(loc_is(l.toks[3].loc, 2, 1));   /* input */
    CHECK(loc_is(l.toks[4].loc, 2, 7));   /* x: a lone \r is a blank */
    CHECK(loc_is(l.toks[6].loc, 4, 1));   /* layer */
    CHECK(l.diags.n == 0);
    lex_done(&l);
}

TEST(lex_columns_count_bytes_and_tabs_as_one)
{
    Lex l;
    LEX(&l, "\tlayer\t\ta = b;");
    CHECK(loc_is(l.toks[0].loc, 1, 2));
    CHECK(loc_is(l.toks[1].loc, 1, 9));
    CHECK(loc_is(l.toks[2].loc, 1, 11));
    lex_done(&l);
}

TEST(lex_strings)
{
    Lex l;
    LEX(&l, "f(\"data/a b.csv\", \"\xc3\xa9t\xc3\xa9.csv\")");
    CHECK(l.n == 7);
    CHECK_STR(l.toks[2].name, "string");
    CHECK_STR(l.toks[2].text, "\"data/a b.csv\"");
    CHECK(loc_is(l.toks[2].loc, 1, 3));
    CHECK(l.diags.n == 0);  /* UTF-8 inside a string is fine */
    lex_done(&l);
}

TEST(lex_unterminated_string_is_reported_at_its_start)
{
    Lex l;
    LEX(&l, "x = \"abc\ny;");
    CHECK(l.diags.n == 1);
    CHECK(l.diags.n > 0 && loc_is(l.diags.items[0].loc, 1, 5));
    CHECK(l.diags.n > 0 && strstr(l.diags.items[0].msg, "unterminated string"));
    CHECK(loc_is(l.toks[3].loc, 2, 1));  /* the scan resumes on the next line */
    lex_done(&l);
}

TEST(lex_end_of_file_is_just_after_the_last_token)
{
    Lex l;
    LEX(&l, "model m\n\n# trailing comment\n");
    CHECK(l.n == 3);
    CHECK_STR(l.toks[2].name, "end of file");
    CHECK(loc_is(l.toks[2].loc, 1, 8));
    lex_done(&l);
}

TEST(lex_malformed_numbers)
{
    Lex l;
    LEX(&l, "12abc 1e 1.2.3 0x10 5");
    CHECK(l.diags.n == 4);
    CHECK(l.n == 6);  /* each still one number token: no cascade */
    CHECK(l.diags.n > 0 && strstr(l.diags.items[0].msg, "invalid number '12abc'"));
    CHECK(l.diags.n > 1 && loc_is(l.diags.items[1].loc, 1, 7));
    CHECK(l.n == 6 && l.toks[4].num == 5);
    lex_done(&l);
}

TEST(lex_number_out_of_range)
{
    Lex l;
    LEX(&l, "1 1e999 1e-999");
    CHECK(l.diags.n == 1);
    CHECK(l.diags.n > 0 && strstr(l.diags.items[0].msg, "number out of range"));
    CHECK(l.diags.n > 0 && loc_is(l.diags.items[0].loc, 1, 3));
    CHECK(l.n == 4 && l.toks[2].num < 1e-300);  /* underflow is just tiny */
    lex_done(&l);
}

/* Parser: statements */

TEST(parse_model_and_input)
{
    Parse p;
    parse_text(&p, "model net;\ninput img [1, 28, 28];\n");
    CHECK(p.diags.n == 0);
    CHECK(p.prog->nstmts == 2);
    Stmt *m = p.prog->stmts[0], *in = p.prog->stmts[1];
    CHECK(m->kind == S_MODEL);
    CHECK_STR(m->name, "net");
    CHECK(loc_is(m->loc, 1, 1) && loc_is(m->name_loc, 1, 7));
    CHECK(in->kind == S_INPUT);
    CHECK_STR(in->name, "img");
    CHECK(in->shape && in->shape->kind == V_LIST && in->shape->nitems == 3);
    CHECK(loc_is(in->shape->loc, 2, 11));
    CHECK(in->shape->items[1]->kind == V_NUM && in->shape->items[1]->num == 28);
    CHECK(loc_is(in->shape->items[2]->loc, 2, 19));
    parse_done(&p);
}

TEST(parse_weights_plain_initialised_and_frozen)
{
    Parse p;
    parse_text(&p, "weight w[2, 3];\n"
                   "weight b[3] = zeros;\n"
                   "  frozen weight k[1] = uniform(-1, 1);\n");
    CHECK(p.diags.n == 0);
    CHECK(p.prog->nstmts == 3);
    Stmt *w = p.prog->stmts[0], *b = p.prog->stmts[1], *k = p.prog->stmts[2];
    CHECK(w->kind == S_WEIGHT && !w->frozen && !w->init && w->shape->nitems == 2);
    CHECK(b->init && b->init->kind == V_NAME);
    CHECK_STR(b->init->name, "zeros");
    CHECK(k->frozen == 1);
    CHECK(loc_is(k->loc, 3, 3));        /* at `frozen` */
    CHECK(loc_is(k->name_loc, 3, 17));
    CHECK(k->init->kind == V_CALL && k->init->nargs == 2);
    CHECK_STR(k->init->name, "uniform");
    CHECK(k->init->args[0].value->num == -1);
    CHECK(loc_is(k->init->args[0].value->loc, 3, 32));
    parse_done(&p);
}

TEST(parse_layer_with_options)
{
    Parse p;
    parse_text(&p, "layer h = dense(x, 128, bias=0, init = he);");
    CHECK(p.diags.n == 0);
    CHECK(p.prog->nstmts == 1);
    Stmt *s = p.prog->stmts[0];
    CHECK(s->kind == S_LAYER);
    CHECK_STR(s->name, "h");
    Value *c = s->call;
    CHECK(c && c->kind == V_CALL && c->nargs == 4);
    CHECK_STR(c->name, "dense");
    CHECK(loc_is(c->loc, 1, 11));
    CHECK(c->args[0].key == NULL && c->args[0].value->kind == V_NAME);
    CHECK(loc_is(c->args[0].key_loc, 1, 17));
    CHECK(c->args[1].value->num == 128);
    CHECK_STR(c->args[2].key, "bias");
    CHECK(loc_is(c->args[2].key_loc, 1, 25));
    CHECK_STR(c->args[3].key, "init");
    CHECK_STR(c->args[3].value->name, "he");
    parse_done(&p);
}

TEST(parse_output_both_forms)
{
    Parse p;
    parse_text(&p, "output y;\noutput z = relu(x);\n");
    CHECK(p.diags.n == 0);
    CHECK(p.prog->nstmts == 2);
    CHECK(p.prog->stmts[0]->kind == S_OUTPUT && p.prog->stmts[0]->call == NULL);
    CHECK_STR(p.prog->stmts[0]->name, "y");
    Value *c = p.prog->stmts[1]->call;
    CHECK(c && c->kind == V_CALL && c->nargs == 1);
    CHECK_STR(c->name, "relu");
    CHECK_STR(c->args[0].value->name, "x");
    parse_done(&p);
}

TEST(parse_loss)
{
    Parse p;
    parse_text(&p, "loss   cross_entropy(probs);");
    CHECK(p.diags.n == 0);
    CHECK(p.prog->nstmts == 1);
    Stmt *s = p.prog->stmts[0];
    CHECK(s->kind == S_LOSS);
    CHECK_STR(s->name, "cross_entropy");
    CHECK(loc_is(s->name_loc, 1, 8));
    CHECK(s->call && s->call->kind == V_CALL && s->call->nargs == 1);
    CHECK_STR(s->call->name, "cross_entropy");
    CHECK_STR(s->call->args[0].value->name, "probs");
    parse_done(&p);
}

TEST(parse_train_block)
{
    Parse p;
    parse_text(&p, "train {\n"
                   "    optimizer = sgd(lr=0.1, momentum=0.9);\n"
                   "    batch = 64; epochs = 2*5;\n"
                   "}\n"
                   "model m;\n");
    CHECK(p.diags.n == 0);
    CHECK(p.prog->nstmts == 2);
    Stmt *t = p.prog->stmts[0];
    CHECK(t->kind == S_TRAIN && t->nentries == 3);
    CHECK(loc_is(t->loc, 1, 1));
    CHECK_STR(t->entries[0].key, "optimizer");
    CHECK(loc_is(t->entries[0].key_loc, 2, 5));
    Value *opt = t->entries[0].value;
    CHECK(opt->kind == V_CALL && opt->nargs == 2);
    CHECK_STR(opt->args[1].key, "momentum");
    CHECK_NEAR(opt->args[1].value->num, 0.9, 0);
    CHECK_STR(t->entries[2].key, "epochs");
    CHECK(t->entries[2].value->num == 10);
    CHECK(p.prog->stmts[1]->kind == S_MODEL);
    parse_done(&p);
}

TEST(parse_train_block_takes_an_optional_semicolon)
{
    Parse p;
    parse_text(&p, "train { batch = 1; };\ntrain {}\nmodel m;;");
    CHECK(p.prog->nstmts == 3);
    CHECK(p.diags.nerrors == 0);
    CHECK(p.diags.nwarnings == 1);  /* only the stray ';' after `model m;` */
    CHECK_STR(first_diag(&p), "3:9: empty statement (a stray ';')");
    parse_done(&p);
}

TEST(parse_nested_literal)
{
    Parse p;
    parse_text(&p, "frozen weight w2[1, 3] = [[1/200, -3000/11600000, 1/5800]];");
    CHECK(p.diags.n == 0);
    Value *init = p.prog->nstmts == 1 ? p.prog->stmts[0]->init : NULL;
    CHECK(init && init->kind == V_LIST && init->nitems == 1);
    if (init && init->nitems == 1) {
        Value *row = init->items[0];
        CHECK(row->kind == V_LIST && row->nitems == 3);
        CHECK(loc_is(row->loc, 1, 27));
        CHECK(row->items[0]->num == 1.0 / 200);
        CHECK(row->items[1]->num == -3000.0 / 11600000);
        CHECK(row->items[2]->num == 1.0 / 5800);
    }
    parse_done(&p);
}

TEST(parse_strings_calls_without_args_and_empty_lists)
{
    Parse p;
    parse_text(&p, "layer d = load(\"a b.csv\");\nlayer e = noise();\ninput x[];");
    CHECK(p.diags.n == 0);  /* an empty shape is the checker's to reject */
    CHECK(p.prog->nstmts == 3);
    Value *s = p.prog->stmts[0]->call->args[0].value;
    CHECK(s->kind == V_STR);
    CHECK_STR(s->name, "a b.csv");
    CHECK(loc_is(s->loc, 1, 16));
    CHECK(p.prog->stmts[1]->call->nargs == 0);
    CHECK(p.prog->stmts[2]->shape->kind == V_LIST && p.prog->stmts[2]->shape->nitems == 0);
    parse_done(&p);
}

TEST(parse_the_shape_sample)
{
    Parse p;
    parse_text(&p,
        "# Is this person in good shape? (broccoli, Tagada strawberries, workout hours)\n"
        "model shape;\n"
        "\n"
        "input  food[3];\n"
        "frozen weight w2[1, 3] = [[1/200, -3000/11600000, 1/5800]];\n"
        "\n"
        "layer  l1 = identity(food);      # L1(X) = X\n"
        "layer  l2 = linear(l1, w2);      # L2(X) = X1/200 - 3000 X2/11600000 + X3/5800\n"
        "output l3 = identity(l2);        # L3(X) = X\n"
        "loss   mse(l3);                  # Loss = 1/2 (L3 - truth)^2\n");
    CHECK(p.diags.n == 0);
    CHECK(p.prog->nstmts == 7);
    StmtKind want[] = { S_MODEL, S_INPUT, S_WEIGHT, S_LAYER, S_LAYER, S_OUTPUT, S_LOSS };
    for (int i = 0; i < 7 && i < p.prog->nstmts; i++)
        CHECK(p.prog->stmts[i]->kind == want[i]);
    CHECK(loc_is(p.prog->stmts[6]->loc, 10, 1));
    CHECK(loc_is(p.prog->stmts[4]->call->args[1].value->loc, 8, 24));
    parse_done(&p);
}

TEST(parse_skips_a_byte_order_mark)
{
    Parse p;
    parse_text(&p, "\xef\xbb\xbfmodel m; @");
    CHECK(p.prog->nstmts == 1);
    CHECK_STR(first_diag(&p), "1:10: unexpected character '@'");
    CHECK_STR(printed(&p), "t.lyr:1:10: error: unexpected character '@'\n"
                           "    model m; @\n"
                           "             ^\n");
    parse_done(&p);
}

TEST(stmt_kind_names)
{
    CHECK_STR(stmt_kind_name(S_MODEL), "model");
    CHECK_STR(stmt_kind_name(S_INPUT), "input");
    CHECK_STR(stmt_kind_name(S_WEIGHT), "weight");
    CHECK_STR(stmt_kind_name(S_LAYER), "layer");
    CHECK_STR(stmt_kind_name(S_OUTPUT), "output");
    CHECK_STR(stmt_kind_name(S_LOSS), "loss");
    CHECK_STR(stmt_kind_name(S_TRAIN), "train");
}

/* Constant folding */

/* The value of `weight w[1] = EXPR;`, or NAN on any diagnostic. */
static double fold_text(const char *expr)
{
    char text[256];
    snprintf(text, sizeof text, "weight w[1] = %s;", expr);
    Parse p;
    parse_text(&p, text);
    double v = NAN;
    if (p.diags.n == 0 && p.prog->nstmts == 1 && p.prog->stmts[0]->init &&
        p.prog->stmts[0]->init->kind == V_NUM)
        v = p.prog->stmts[0]->init->num;
    parse_done(&p);
    return v;
}

TEST(fold_fractions_exactly_as_double)
{
    CHECK(fold_text("1/200") == 1.0 / 200);
    CHECK(fold_text("-3000/11600000") == -3000.0 / 11600000);
    CHECK(fold_text("1/5800") == 1.0 / 5800);
    CHECK(fold_text(".5e1") == 5);
}

TEST(fold_precedence_and_associativity)
{
    CHECK(fold_text("2+3*4") == 14);
    CHECK(fold_text("2*(3+4)") == 14);
    CHECK(fold_text("10-4-3") == 3);
    CHECK(fold_text("8/4/2") == 1);
    CHECK(fold_text("1-2*3+4") == -1);
    CHECK(fold_text("((7))") == 7);
}

TEST(fold_unary_signs)
{
    CHECK(fold_text("-2*3") == -6);
    CHECK(fold_text("2*-3") == -6);
    CHECK(fold_text("- -1") == 1);
    CHECK(fold_text("+5") == 5);
    CHECK(fold_text("-(2+3)") == -5);
    CHECK(fold_text("-2-2") == -4);
}

TEST(fold_division_by_zero_is_reported_at_the_operator)
{
    Parse p;
    parse_text(&p, "weight w[2] = [1, 3/(2-2)];");
    CHECK(p.diags.n == 1);
    CHECK_STR(first_diag(&p), "1:20: division by zero in a constant expression");
    parse_done(&p);
}

TEST(fold_reports_one_error_per_expression)
{
    Parse p;
    parse_text(&p, "weight w[1] = (1/0)*2 + 1e999;");
    CHECK(p.diags.nerrors == 2);  /* the 1/0 and the 1e999, nothing derived */
    CHECK_STR(diag_at(&p, 0), "1:17: division by zero in a constant expression");
    CHECK_STR(diag_at(&p, 1), "1:25: number out of range: 1e999");
    parse_done(&p);
}

TEST(fold_overflow_is_reported_at_the_operator)
{
    Parse p;
    parse_text(&p, "input x[1e308 * 10];");
    CHECK(p.diags.n == 1);
    CHECK(p.diags.n == 1 && loc_is(p.diags.items[0].loc, 1, 15));
    CHECK_CONTAINS(first_diag(&p), "out of range");
    parse_done(&p);
}

TEST(fold_value_location_is_its_first_character)
{
    Parse p;
    parse_text(&p, "input x[ -(3)*2, (1+1)];");
    CHECK(p.diags.n == 0);
    Value *shape = p.prog->stmts[0]->shape;
    CHECK(shape->items[0]->num == -6 && loc_is(shape->items[0]->loc, 1, 10));
    CHECK(shape->items[1]->num == 2 && loc_is(shape->items[1]->loc, 1, 18));
    parse_done(&p);
}

/* Syntax errors */

TEST(error_missing_semicolon_is_reported_at_the_end_of_its_line)
{
    Parse p;
    parse_text(&p, "model m\ninput x[3];\n");
    CHECK(p.diags.n == 1);
    CHECK_STR(first_diag(&p), "1:8: syntax error: expected ';' before 'input'");
    parse_done(&p);
}

TEST(error_says_what_was_expected)
{
    Parse p;
    parse_text(&p, "layer a = relu(x;\nweight w[3] = ;\nlayer b = f(1 2);\nlayer c = ;\n");
    CHECK(p.diags.n == 4);
    CHECK_STR(diag_at(&p, 0), "1:17: syntax error: expected ')' or ',' before ';'");
    CHECK_STR(diag_at(&p, 1), "2:15: syntax error: expected a value before ';'");
    CHECK_STR(diag_at(&p, 2), "3:15: syntax error: expected ')' or ',' before '2'");
    CHECK_STR(diag_at(&p, 3), "4:11: syntax error: expected name before ';'");
    parse_done(&p);
}

TEST(error_recovery_reports_three_errors_in_one_run)
{
    Parse p;
    parse_text(&p, "model m;\n"
                   "input x[3;\n"
                   "layer a = relu(x);\n"
                   "layer b = dense(a 10);\n"
                   "layer c = relu(b);\n"
                   "output = c;\n"
                   "loss mse(c);\n");
    CHECK(p.diags.nerrors == 3);
    CHECK_STR(diag_at(&p, 0), "2:10: syntax error: expected ',' or ']' before ';'");
    CHECK_STR(diag_at(&p, 1), "4:19: syntax error: expected ')' or ',' before '10'");
    CHECK_STR(diag_at(&p, 2), "6:8: syntax error: expected name before '='");
    /* the good statements between them survive */
    CHECK(p.prog->nstmts == 4);
    CHECK(p.prog->nstmts == 4 && p.prog->stmts[2]->kind == S_LAYER);
    CHECK(p.prog->nstmts == 4 && p.prog->stmts[3]->kind == S_LOSS);
    parse_done(&p);
}

TEST(error_recovery_inside_a_train_block)
{
    Parse p;
    parse_text(&p, "train {\n  batch = ;\n  epochs = 3;\n  lr = 0.1\n}\nmodel m;\n");
    CHECK(p.diags.nerrors == 2);
    CHECK_STR(diag_at(&p, 0), "2:11: syntax error: expected a value before ';'");
    CHECK_STR(diag_at(&p, 1), "4:11: syntax error: expected ';' before '}'");
    CHECK(p.prog->nstmts == 2);
    CHECK(p.prog->stmts[0]->nentries == 1);
    CHECK_STR(p.prog->stmts[0]->entries[0].key, "epochs");
    CHECK(p.prog->nstmts == 2 && p.prog->stmts[1]->kind == S_MODEL);
    parse_done(&p);
}

TEST(error_keyword_used_as_a_name)
{
    Parse p;
    parse_text(&p, "model input;\nlayer a = relu(train);\nlayer layer = f(x);\n");
    CHECK(p.diags.n == 3);
    CHECK_STR(diag_at(&p, 0), "1:7: 'input' is a keyword and cannot be used as a name");
    CHECK_STR(diag_at(&p, 1), "2:16: 'train' is a keyword and cannot be used as a name");
    CHECK_STR(diag_at(&p, 2), "3:7: 'layer' is a keyword and cannot be used as a name");
    parse_done(&p);
}

TEST(error_positional_argument_after_an_option)
{
    Parse p;
    parse_text(&p, "layer a = dense(x, bias=1, 3);");
    CHECK(p.diags.n == 1);
    CHECK_STR(first_diag(&p), "1:28: positional argument after the option 'bias': "
                              "positional arguments come first, options (key = value) last");
    CHECK(p.prog->nstmts == 1);  /* a clear error, and the parse goes on */
    parse_done(&p);
}

TEST(error_unexpected_end_of_file)
{
    Parse p;
    parse_text(&p, "model m;\nlayer a = relu(x\n\n# nothing more\n");
    CHECK(p.diags.n == 1);
    CHECK_STR(first_diag(&p), "2:17: syntax error: unexpected end of file, expected ')' or ','");
    CHECK(p.prog->nstmts == 1);
    parse_done(&p);

    parse_text(&p, "train { batch = 3;");
    CHECK(p.diags.n == 1);
    CHECK_CONTAINS(first_diag(&p), "1:19: syntax error: unexpected end of file, expected");
    CHECK_CONTAINS(first_diag(&p), "'}'");
    CHECK(p.prog->nstmts == 1 && p.prog->stmts[0]->nentries == 1);
    parse_done(&p);
}

TEST(error_name_too_long)
{
    char text[600];
    Parse p;
    memcpy(text, "model ", 6);
    memset(text + 6, 'a', 255);
    strcpy(text + 6 + 255, ";");
    parse_text(&p, text);
    CHECK(p.diags.n == 0);
    parse_done(&p);

    memset(text + 6, 'b', 256);
    strcpy(text + 6 + 256, ";");
    parse_text(&p, text);
    CHECK_STR(first_diag(&p), "1:7: name too long (256 characters; the limit is 255)");
    CHECK(p.diags.n == 1);
    parse_done(&p);
}

TEST(error_unexpected_characters)
{
    Parse p;
    parse_text(&p, "model m; @ input\x01 x[3] $;");
    CHECK(p.diags.n == 3);
    CHECK_STR(diag_at(&p, 0), "1:10: unexpected character '@'");
    CHECK_STR(diag_at(&p, 1), "1:17: unexpected control character 0x01");
    CHECK_STR(diag_at(&p, 2), "1:24: unexpected character '$'");
    CHECK(p.prog->nstmts == 2);  /* lexing went on */
    parse_done(&p);
}

TEST(error_nul_bytes_reported_once_per_run)
{
    static const char text[] = "model m;\0\0\0 input x[1];\0";
    Parse p;
    parse_bytes(&p, text, sizeof text - 1);
    CHECK(p.diags.n == 2);
    CHECK_STR(diag_at(&p, 0), "1:9: NUL byte in the file");
    CHECK_STR(diag_at(&p, 1), "1:24: NUL byte in the file");
    CHECK(p.prog->nstmts == 2);
    /* the echoed line shows the NULs as '?' */
    CHECK_CONTAINS(printed(&p), "    model m;??? input x[1];?\n");
    parse_done(&p);
}

TEST(error_non_ascii_outside_comments_and_strings)
{
    Parse p;
    parse_text(&p, "model m\xc2\xa0\xc2\xa0;\n"            /* two no-break spaces */
                   "input x[3] \xff\xfe;\n"               /* not UTF-8 at all */
                   "# caf\xc3\xa9 \xff ok in a comment\n"
                   "layer a = load(\"\xc3\xa9\");\n");
    CHECK(p.diags.n == 2);
    CHECK_STR(diag_at(&p, 0),
              "1:8: non-ASCII character U+00A0; names and operators are ASCII");
    CHECK_CONTAINS(diag_at(&p, 1), "2:12: invalid UTF-8 (byte 0xff)");
    CHECK(p.prog->nstmts == 3);
    parse_done(&p);
}

TEST(error_too_many_errors_stops_the_parse)
{
    char *text = xmalloc(200 * 20 + 1);
    text[0] = '\0';
    for (int i = 0; i < 200; i++)
        strcat(text, "layer a = relu(x;\n");
    Parse p;
    parse_text(&p, text);
    CHECK(p.diags.nerrors == 51);
    CHECK_CONTAINS(diag_at(&p, 50), "too many errors");
    parse_done(&p);
    free(text);
}

/* Deep nesting: an error, never a stack overflow */

static char *repeat(const char *head, const char *unit, int n, const char *tail)
{
    size_t lh = strlen(head), lu = strlen(unit), lt = strlen(tail);
    char *s = xmalloc(lh + lu * (size_t)n + lt + 1);
    memcpy(s, head, lh);
    for (int i = 0; i < n; i++)
        memcpy(s + lh + lu * (size_t)i, unit, lu);
    memcpy(s + lh + lu * (size_t)n, tail, lt + 1);
    return s;
}

TEST(deep_parentheses)
{
    char *text = repeat("model m;\nlayer a = f(", "(", 100000, "1);\nmodel n;\n");
    Parse p;
    parse_text(&p, text);
    CHECK(p.diags.nerrors == 1);
    CHECK_STR(first_diag(&p), "2:76: nesting too deep (more than 64 levels of '(' and '[')");
    CHECK(p.prog->nstmts == 2);  /* the statement after it is parsed */
    parse_done(&p);
    free(text);
}

TEST(deep_brackets)
{
    char *text = repeat("input x", "[", 100000, "");
    Parse p;
    parse_text(&p, text);
    CHECK(p.diags.nerrors >= 1);
    CHECK_CONTAINS(printed(&p), "nesting too deep");
    parse_done(&p);
    free(text);
}

TEST(nesting_up_to_the_limit_is_fine)
{
    char *ok = repeat("weight w[1] = ", "[", 64, "");
    char *ok2 = repeat(ok, "]", 64, ";");
    Parse p;
    parse_text(&p, ok2);
    CHECK(p.diags.n == 0);
    parse_done(&p);
    char *deep = repeat("weight w[1] = ", "[", 65, "");
    char *deep2 = repeat(deep, "]", 65, ";");
    parse_text(&p, deep2);
    CHECK(p.diags.nerrors == 1);
    CHECK(p.diags.n > 0 && loc_is(p.diags.items[0].loc, 1, 15 + 64));
    parse_done(&p);
    free(ok), free(ok2), free(deep), free(deep2);
}

TEST(deep_unary_minus)
{
    char *text = repeat("input x[", "-", 100000, "1];\n");
    Parse p;
    parse_text(&p, text);
    CHECK(p.diags.nerrors == 1);
    CHECK_CONTAINS(first_diag(&p), "nested too deeply");
    parse_done(&p);
    free(text);
}

/* Nothing crashes */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

/* Every diagnostic points into the file (or at the file as a whole), and
 * printing them all works. */
static int diags_are_sane(Parse *p)
{
    for (int i = 0; i < p->diags.n; i++) {
        Loc l = p->diags.items[i].loc;
        if (l.line < 0 || l.col < 0 || (l.line > 0 && l.col < 1))
            return 0;
    }
    return printed(p) != NULL;
}

TEST(random_bytes_never_crash)
{
    static const char *pieces[] = {
        "model", "input", "weight", "frozen", "layer", "output", "loss", "train",
        " x", " y", "dense", "(", ")", "[", "]", "{", "}", ";", ",", "=", "+", "-",
        "*", "/", "1", "0", ".5", "1e", "1e999", "\"s\"", "\"", "#", "//", "\n",
        "\r\n", "\t", " ", "\0", "\xff", "\xc3\xa9", "@", "0/0", "lr=0.1",
    };
    int npieces = (int)(sizeof pieces / sizeof *pieces);
    int insane = 0;
    char buf[600];
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = 0;
        if (iter % 2 == 0) {
            size_t len = rnd(400);
            for (; n < len; n++)
                buf[n] = (char)rnd(256);
        } else {
            int count = (int)rnd(80);
            for (int k = 0; k < count; k++) {
                const char *piece = pieces[rnd((unsigned)npieces)];
                size_t len = *piece ? strlen(piece) : 1;  /* "\0" is one NUL */
                memcpy(buf + n, piece, len);
                n += len;
            }
        }
        Parse p;
        parse_bytes(&p, buf, n);
        if (!p.prog || !diags_are_sane(&p))
            insane++;
        parse_done(&p);
    }
    CHECK(insane == 0);
}

TEST(every_prefix_of_a_valid_file_parses_without_crashing)
{
    static const char text[] =
        "model m;\ninput x[2];\nweight w[1, 2] = [[1/2, -3]];\n"
        "layer a = linear(x, w);\noutput y = sigmoid(a);\nloss bce(y);\n"
        "train { optimizer = adam(lr=1e-3); batch = 4; }\n";
    int errors_before_end = 0;
    for (size_t n = 0; n < sizeof text - 1; n++) {
        Parse p;
        parse_bytes(&p, text, n);
        CHECK(p.prog != NULL && diags_are_sane(&p));
        errors_before_end += p.diags.nerrors > 0;
        parse_done(&p);
    }
    Parse p;
    parse_bytes(&p, text, sizeof text - 1);
    CHECK(p.diags.n == 0 && p.prog->nstmts == 7);
    parse_done(&p);
    CHECK(errors_before_end > 100);  /* most cuts are mid-statement */
}

/* Diagnostics */

static Source make_source(const char *text)
{
    Source s;
    source_from_string(&s, "net.lyr", text);
    return s;
}

TEST(diags_print_the_compiler_format)
{
    Source src = make_source("model m;\ninput a[128];\ninput b[64];\n\n\n\n"
                             "layer s = add(a, b);\n");
    Diags d;
    diags_init(&d, &src);
    diag_error(&d, (Loc){ 7, 11 }, "shape mismatch: add(a, b) has a [%d] and b [%d]", 128, 64);
    char *out = print_diags(&d);
    CHECK_STR(out, "net.lyr:7:11: error: shape mismatch: add(a, b) has a [128] and b [64]\n"
                   "    layer s = add(a, b);\n"
                   "              ^\n");
    free(out);
    diags_free(&d);
    source_free(&src);
}

TEST(diags_caret_copies_tabs)
{
    Source src = make_source("model m;\n\t\tlayer s =\tf(x);\r\n");
    Diags d;
    diags_init(&d, &src);
    diag_warning(&d, (Loc){ 2, 13 }, "layer 's' does not reach the output");
    char *out = print_diags(&d);
    CHECK_STR(out, "net.lyr:2:13: warning: layer 's' does not reach the output\n"
                   "    \t\tlayer s =\tf(x);\n"
                   "    \t\t         \t^\n");
    free(out);
    diags_free(&d);
    source_free(&src);
}

TEST(diags_are_sorted_by_position_then_order)
{
    Source src = make_source("a\nb\nc\n");
    Diags d;
    diags_init(&d, &src);
    diag_error(&d, (Loc){ 3, 1 }, "third");
    diag_error(&d, (Loc){ 1, 1 }, "first");
    diag_note(&d, (Loc){ 3, 1 }, "fourth");
    diag_error(&d, (Loc){ 0, 0 }, "whole file");
    diag_warning(&d, (Loc){ 2, 1 }, "second");
    char *out = print_diags(&d);
    CHECK_STR(out, "net.lyr: error: whole file\n"
                   "net.lyr:1:1: error: first\n    a\n    ^\n"
                   "net.lyr:2:1: warning: second\n    b\n    ^\n"
                   "net.lyr:3:1: error: third\n    c\n    ^\n"
                   "net.lyr:3:1: note: fourth\n    c\n    ^\n");
    CHECK(d.nerrors == 3 && d.nwarnings == 1);  /* notes count as neither */
    free(out);
    diags_free(&d);
    source_free(&src);
}

TEST(diags_hint_line)
{
    Source src = make_source("layer h = dens(x, 10);\n");
    Diags d;
    diags_init(&d, &src);
    diag_hint(&d, "ignored: nothing reported yet");
    diag_error(&d, (Loc){ 1, 11 }, "unknown op 'dens'");
    diag_hint(&d, "did you mean '%s'?", "dense");
    diag_error(&d, (Loc){ 0, 0 }, "no output");
    diag_hint(&d, "add `output NAME;`");
    char *out = print_diags(&d);
    CHECK_STR(out, "net.lyr: error: no output\n"
                   "    = hint: add `output NAME;`\n"
                   "net.lyr:1:11: error: unknown op 'dens'\n"
                   "    layer h = dens(x, 10);\n"
                   "              ^\n"
                   "    = hint: did you mean 'dense'?\n");
    free(out);
    diags_free(&d);
    source_free(&src);
}

TEST(diags_show_unprintable_bytes_as_question_marks)
{
    Source src = make_source("x\x1b[31m = \xc3\xa9;\n");
    Diags d;
    diags_init(&d, &src);
    diag_error(&d, (Loc){ 1, 12 }, "bad \x1b[2J thing");
    char *out = print_diags(&d);
    CHECK_STR(out, "net.lyr:1:12: error: bad ?[2J thing\n"
                   "    x?[31m = ??;\n"
                   "               ^\n");
    free(out);
    diags_free(&d);
    source_free(&src);
}

TEST(diags_caret_past_the_end_and_missing_lines)
{
    Source src = make_source("model m\n");
    Diags d;
    diags_init(&d, &src);
    diag_error(&d, (Loc){ 1, 8 }, "expected ';'");
    diag_error(&d, (Loc){ 5, 1 }, "nowhere");
    char *out = print_diags(&d);
    CHECK_STR(out, "net.lyr:1:8: error: expected ';'\n"
                   "    model m\n"
                   "           ^\n"
                   "net.lyr:5:1: error: nowhere\n");
    free(out);
    diags_free(&d);
    source_free(&src);
}

TEST(diags_long_lines_are_shown_around_the_column)
{
    char *line = repeat("", "ab", 1000, "\n");
    Source src = make_source(line);
    Diags d;
    diags_init(&d, &src);
    diag_error(&d, (Loc){ 1, 1001 }, "here");
    char *out = print_diags(&d);
    /* 80 bytes before the column, 80 from it, "..." on both sides */
    char *want_line = repeat("    ...", "ab", 80, "...\n");
    char *want_caret = repeat("       ", " ", 80, "^\n");
    CHECK_CONTAINS(out, want_line);
    CHECK_CONTAINS(out, want_caret);
    CHECK(strlen(out) < 400);
    free(out), free(want_line), free(want_caret), free(line);
    diags_free(&d);
    source_free(&src);
}

TEST(source_line_handles_line_ends)
{
    Source src = make_source("one\r\ntwo\n\nfour");
    size_t n;
    const char *s = source_line(&src, 1, &n);
    CHECK(s && n == 3 && memcmp(s, "one", 3) == 0);
    s = source_line(&src, 2, &n);
    CHECK(s && n == 3 && memcmp(s, "two", 3) == 0);
    s = source_line(&src, 3, &n);
    CHECK(s && n == 0);
    s = source_line(&src, 4, &n);
    CHECK(s && n == 4 && memcmp(s, "four", 4) == 0);
    CHECK(source_line(&src, 5, &n) == NULL);
    CHECK(source_line(&src, 0, &n) == NULL);
    source_free(&src);
}

TEST(closest_name_finds_likely_typos)
{
    const char *ops[] = { "dense", "relu", "sigmoid", "softmax", "conv2d", "maxpool" };
    CHECK_STR(closest_name("dens", ops, 6), "dense");
    CHECK_STR(closest_name("sigmod", ops, 6), "sigmoid");
    CHECK_STR(closest_name("Relu", ops, 6), "relu");
    CHECK_STR(closest_name("conv2", ops, 6), "conv2d");
    CHECK(closest_name("tanh", ops, 6) == NULL);
    CHECK(closest_name("xyzzy", ops, 6) == NULL);
    CHECK(closest_name("dense", ops, 0) == NULL);
    /* max(1, len/3) edits: 2 for "sftmxx" (6 letters), 1 for "rl" */
    CHECK_STR(closest_name("sftmxx", ops, 6), "softmax");
    CHECK(closest_name("rl", ops, 6) == NULL);
}

TEST(source_read_reads_every_byte)
{
    char path[] = "/tmp/lc_test_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    static const char data[] = "model m;\0x";
    CHECK(write(fd, data, sizeof data - 1) == (ssize_t)(sizeof data - 1));
    close(fd);
    Source src;
    char err[256] = "";
    CHECK(source_read(&src, path, err, sizeof err) == 1);
    CHECK(src.len == sizeof data - 1);
    CHECK(memcmp(src.text, data, sizeof data - 1) == 0 && src.text[src.len] == '\0');
    CHECK_STR(src.path, path);
    source_free(&src);
    unlink(path);
}

TEST(source_read_errors_name_the_file)
{
    Source src;
    char err[256] = "";
    CHECK(source_read(&src, "/nonexistent/net.lyr", err, sizeof err) == 0);
    CHECK_STR(err, "cannot open '/nonexistent/net.lyr': No such file or directory");

    CHECK(source_read(&src, "/tmp", err, sizeof err) == 0);
    CHECK_STR(err, "'/tmp' is a directory, not a model file");

    char path[] = "/tmp/lc_test_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    chmod(path, 0);
    if (geteuid() != 0) {  /* root reads anything */
        CHECK(source_read(&src, path, err, sizeof err) == 0);
        CHECK_CONTAINS(err, path);
        CHECK_CONTAINS(err, "Permission denied");
    }
    unlink(path);
}

TEST(source_read_stops_at_the_size_limit)
{
    Source src;
    char err[256] = "";
    CHECK(source_read(&src, "/dev/zero", err, sizeof err) == 0);
    CHECK_STR(err, "'/dev/zero' is too large (the limit is 16 MiB)");
    CHECK(src.text == NULL);
}

TEST(source_from_string_copies)
{
    char text[] = "model m;";
    Source src;
    source_from_string(&src, "x.lyr", text);
    text[0] = 'X';
    CHECK_STR(src.text, "model m;");
    CHECK(src.len == 8);
    CHECK_STR(src.path, "x.lyr");
    source_free(&src);
    CHECK(src.text == NULL);
}

int main(void)
{
    RUN(lex_numbers_in_every_form);
    RUN(lex_names_and_keywords);
    RUN(lex_punctuation);
    RUN(lex_comments_of_both_kinds);
    RUN(lex_division_is_not_a_comment);
    RUN(lex_crlf_and_lone_cr);
    RUN(lex_columns_count_bytes_and_tabs_as_one);
    RUN(lex_strings);
    RUN(lex_unterminated_string_is_reported_at_its_start);
    RUN(lex_end_of_file_is_just_after_the_last_token);
    RUN(lex_malformed_numbers);
    RUN(lex_number_out_of_range);

    RUN(parse_model_and_input);
    RUN(parse_weights_plain_initialised_and_frozen);
    RUN(parse_layer_with_options);
    RUN(parse_output_both_forms);
    RUN(parse_loss);
    RUN(parse_train_block);
    RUN(parse_train_block_takes_an_optional_semicolon);
    RUN(parse_nested_literal);
    RUN(parse_strings_calls_without_args_and_empty_lists);
    RUN(parse_the_shape_sample);
    RUN(parse_skips_a_byte_order_mark);
    RUN(stmt_kind_names);

    RUN(fold_fractions_exactly_as_double);
    RUN(fold_precedence_and_associativity);
    RUN(fold_unary_signs);
    RUN(fold_division_by_zero_is_reported_at_the_operator);
    RUN(fold_reports_one_error_per_expression);
    RUN(fold_overflow_is_reported_at_the_operator);
    RUN(fold_value_location_is_its_first_character);

    RUN(error_missing_semicolon_is_reported_at_the_end_of_its_line);
    RUN(error_says_what_was_expected);
    RUN(error_recovery_reports_three_errors_in_one_run);
    RUN(error_recovery_inside_a_train_block);
    RUN(error_keyword_used_as_a_name);
    RUN(error_positional_argument_after_an_option);
    RUN(error_unexpected_end_of_file);
    RUN(error_name_too_long);
    RUN(error_unexpected_characters);
    RUN(error_nul_bytes_reported_once_per_run);
    RUN(error_non_ascii_outside_comments_and_strings);
    RUN(error_too_many_errors_stops_the_parse);

    RUN(deep_parentheses);
    RUN(deep_brackets);
    RUN(nesting_up_to_the_limit_is_fine);
    RUN(deep_unary_minus);
    RUN(random_bytes_never_crash);
    RUN(every_prefix_of_a_valid_file_parses_without_crashing);

    RUN(diags_print_the_compiler_format);
    RUN(diags_caret_copies_tabs);
    RUN(diags_are_sorted_by_position_then_order);
    RUN(diags_hint_line);
    RUN(diags_show_unprintable_bytes_as_question_marks);
    RUN(diags_caret_past_the_end_and_missing_lines);
    RUN(diags_long_lines_are_shown_around_the_column);
    RUN(source_line_handles_line_ends);
    RUN(closest_name_finds_likely_typos);
    RUN(source_read_reads_every_byte);
    RUN(source_read_errors_name_the_file);
    RUN(source_read_stops_at_the_size_limit);
    RUN(source_from_string_copies);
    return test_report("parser");
}
