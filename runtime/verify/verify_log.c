/*
 * The verifier's log read: which instruction failed, at which source line,
 * with what register state, and why (verify.h).  Kernels before 7.3 print
 * the instruction trace of the failing path and end with the message; 7.3
 * prints "Reason:", "Causal path:" and "Suggestion:" sections.  Both are
 * read line by line with the same rules, so a log of either shape (or one
 * mixing them) gives the same fields.
 */
#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

#define NREGS 11          /* R0..R10 */

enum section { SEC_TRACE, SEC_REASON, SEC_PATH, SEC_SUGGESTION };

struct parse {
	struct verify_log *out;
	enum section sec;
	char file[256];          /* the latest "; text @ file:line" */
	int line;
	char state[320];         /* the register state the next instruction meets */
	char text[256];          /* the latest annotation's source text */
	int ref_alloc;           /* alloc_insn of an unreleased reference */
	/* Each register's type as the states so far left it, and as the failing instruction met
	 * them: the state printed before it names only what the previous instruction changed. */
	char types[NREGS][32];
	char met[NREGS][32];
	struct { int insn, line; char file[256]; } seen[1024];
	int nseen;
	bool messages_done;      /* the "processed N insns" trailer was reached */
	bool reason_seen;        /* 7.3's Reason: section has given the reason */
	char para[640];          /* that section's lines so far, joined: it wraps mid-sentence */
};

static void copy(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = 0;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* "; text @ file:line": the position, file without directories as the kernel prints it. */
static bool annotation(struct parse *p, const char *s, size_t len)
{
	const char *at = NULL, *colon;

	for (const char *q = s; q + 3 < s + len; q++)
		if (!memcmp(q, " @ ", 3))
			at = q + 3;
	if (s[0] != ';')
		return false;
	/* 6.1 prints the line's text alone: kept, to find the line by it. */
	copy(p->text, sizeof(p->text), skip_space(s + 1), at ? (size_t)(at - 3 - skip_space(s + 1)) :
							      len - (size_t)(skip_space(s + 1) - s));
	p->file[0] = 0;
	p->line = 0;
	if (!at || !(colon = memchr(at, ':', (size_t)(s + len - at))) || !isdigit((unsigned char)colon[1]))
		return true;
	copy(p->file, sizeof(p->file), at, (size_t)(colon - at));
	p->line = atoi(colon + 1);
	return true;
}

/* Register state: "R1=ctx() R10=fp0" (after "N: ", "from X to Y: " or " ; "). */
static bool is_state(const char *s)
{
	s = skip_space(s);
	return s[0] == 'R' && isdigit((unsigned char)s[1]) && strpbrk(s, "=") &&
	       (isdigit((unsigned char)s[2]) ? s[3] == '=' || s[3] == '_' : s[2] == '=' || s[2] == '_');
}

/* Rn at s (n a register), the "_w" or "_rw" of a written one skipped: n, and *after the '='. */
static int reg_token(const char *s, const char **after)
{
	char *end;
	long n;

	if (s[0] != 'R' || !isdigit((unsigned char)s[1]))
		return -1;
	n = strtol(s + 1, &end, 10);
	while (*end == '_' || *end == 'r' || *end == 'w')
		end++;
	if (*end != '=' || n >= NREGS)
		return -1;
	*after = end + 1;
	return (int)n;
}

/* A state "R1=ctx() R6_w=pkt(id=1,...) R8=0 R10=fp0": each register's type remembered. */
static void note_types(struct parse *p, const char *s, size_t len)
{
	const char *end = s + len, *v;
	int depth = 0;

	for (const char *q = s; q < end; q++) {
		int n;
		size_t k = 0;

		depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
		if (depth || (q > s && q[-1] != ' ') || (n = reg_token(q, &v)) < 0 || v >= end)
			continue;
		/* A number is a known scalar ("R0=2"); "fp-16" a stack pointer, "fp". */
		if (isdigit((unsigned char)*v) || *v == '-') {
			strcpy(p->types[n], "scalar");
			continue;
		}
		while (v + k < end && (islower((unsigned char)v[k]) || v[k] == '_') && k < sizeof(p->types[n]) - 1)
			k++;
		copy(p->types[n], sizeof(p->types[n]), v, k);
	}
}

static void remember(struct parse *p, int insn)
{
	if (p->nseen == (int)(sizeof(p->seen) / sizeof(p->seen[0])))
		return;
	p->seen[p->nseen].insn = insn;
	p->seen[p->nseen].line = p->line;
	copy(p->seen[p->nseen].file, sizeof(p->seen[0].file), p->file, strlen(p->file));
	p->nseen++;
}

/* "N: (op) text[ ; state]" or "N: state": an instruction of the trace, or its state. */
static bool trace_line(struct parse *p, const char *s, size_t len)
{
	struct verify_log *o = p->out;
	char *end;
	long n = strtol(s, &end, 10);
	const char *semi;

	if (end == s || end[0] != ':' || end[1] != ' ')
		return false;
	if (is_state(end + 2)) {
		copy(p->state, sizeof(p->state), end + 2, len - (size_t)(end + 2 - s));
		note_types(p, end + 2, len - (size_t)(end + 2 - s));
		return true;
	}
	if (end[2] != '(')
		return false;
	o->insn = (int)n;
	semi = strstr(end, "  ; ");
	if (semi && semi > s + len)
		semi = NULL;
	copy(o->insn_text, sizeof(o->insn_text), s, semi ? (size_t)(semi - s) : len);
	while (o->insn_text[0] && o->insn_text[strlen(o->insn_text) - 1] == ' ')
		o->insn_text[strlen(o->insn_text) - 1] = 0;
	copy(o->file, sizeof(o->file), p->file, strlen(p->file));
	o->line = p->line;
	copy(o->src_text, sizeof(o->src_text), p->text, strlen(p->text));
	/* The state an instruction meets is the one the previous left (" ; R..." after it). */
	copy(o->regs, sizeof(o->regs), p->state, strlen(p->state));
	memcpy(p->met, p->types, sizeof(p->met));
	if (semi && is_state(semi + 4)) {
		copy(p->state, sizeof(p->state), semi + 4, len - (size_t)(semi + 4 - s));
		note_types(p, semi + 4, len - (size_t)(semi + 4 - s));
	}
	remember(p, (int)n);
	/* A message follows the instruction it is about: the earlier ones were passed.  (7.3
	 * gives the reason first, then the causal path.) */
	if (p->sec == SEC_TRACE)
		o->reason[0] = o->detail[0] = 0;
	return true;
}

/* "Reason:", "Causal path:", "Suggestion:" (any case, any indentation): a 7.3 section. */
static const char *section_head(struct parse *p, const char *s)
{
	static const struct { const char *name; enum section sec; } heads[] = {
		{ "reason:", SEC_REASON }, { "causal path:", SEC_PATH }, { "suggestion:", SEC_SUGGESTION },
	};

	s = skip_space(s);
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		if (!strncasecmp(s, heads[i].name, strlen(heads[i].name))) {
			p->sec = heads[i].sec;
			return skip_space(s + strlen(heads[i].name));
		}
	return NULL;
}

/*
 * A line of 7.3's Reason: paragraph, which wraps at about 100 columns: the
 * reason is its first sentence, whole, without the full stop (a detail
 * follows it after "; ").
 */
static void reason_sentence(struct parse *p, const char *s, size_t len)
{
	size_t n = strlen(p->para), end;
	const char *stop;

	if (n && n < sizeof(p->para) - 1)
		p->para[n++] = ' ';
	copy(p->para + n, sizeof(p->para) - n, s, len);
	stop = strstr(p->para, ". ");
	end = stop ? (size_t)(stop - p->para) : strlen(p->para);
	if (!stop && end && p->para[end - 1] == '.')
		end--;
	copy(p->out->reason, sizeof(p->out->reason), p->para, end);
}

/* A line of the verifier's own words: the first is the reason, the second its detail. */
static void message(struct parse *p, const char *s, size_t len)
{
	struct verify_log *o = p->out;
	const char *v;

	if (!len)
		return;
	if (p->sec == SEC_SUGGESTION) {
		if (!o->suggestion[0])
			copy(o->suggestion, sizeof(o->suggestion), s, len);
		return;
	}
	/* 7.3 heads the log "Verification failed: <class>: <message>"; Reason: says it better. */
	if (!strncmp(s, "Verification failed: ", 21) && !o->reason[0]) {
		v = strrchr(s, ':');
		copy(o->reason, sizeof(o->reason), skip_space(v + 1), len - (size_t)(skip_space(v + 1) - s));
		return;
	}
	if ((v = strstr(s, "alloc_insn=")) && v < s + len)
		p->ref_alloc = atoi(v + 11);
	if (p->sec == SEC_REASON) {
		/* The section's own text wins over the summary line, which becomes the detail. */
		if (!p->reason_seen && o->reason[0] && !o->detail[0])
			copy(o->detail, sizeof(o->detail), o->reason, strlen(o->reason));
		p->reason_seen = true;
		reason_sentence(p, s, len);
	} else if (!o->reason[0]) {
		copy(o->reason, sizeof(o->reason), s, len);
	} else if (!o->detail[0]) {
		copy(o->detail, sizeof(o->detail), s, len);
	}
}

/* The lines that say nothing about the failure: statistics, libbpf's frame. */
static bool trailer(struct parse *p, const char *s)
{
	static const char *const forms[] = { "processed ", "verification time", "stack depth",
					     "-- ", "mark_precise", "last_idx", "parent ", "func#",
					     "Live regs", "Global function", "Func#" };

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (!strncmp(s, forms[i], strlen(forms[i]))) {
			if (i == 0)
				p->messages_done = true;
			return true;
		}
	return false;
}

static void parse_line(struct parse *p, const char *s, size_t len)
{
	const char *rest, *from;

	while (len && (s[len - 1] == ' ' || s[len - 1] == '\r'))
		len--;
	if ((rest = section_head(p, s))) {
		message(p, rest, len - (size_t)(rest - s));
		return;
	}
	s = p->sec == SEC_TRACE ? s : skip_space(s);
	len = strlen(s) < len ? strlen(s) : len;
	if (!len || annotation(p, s, len) || trace_line(p, s, len) || trailer(p, s))
		return;
	if (!strncmp(s, "from ", 5) && (from = strstr(s, ": ")) && is_state(from + 2)) {
		copy(p->state, sizeof(p->state), from + 2, len - (size_t)(from + 2 - s));
		note_types(p, from + 2, len - (size_t)(from + 2 - s));
		return;
	}
	if (is_state(s) || p->messages_done)
		return;
	message(p, s, len);
}

/* The first register a message names ("R6 min value ...", "..., R6(id=1,off=0)"), or -1. */
static int named_reg(const char *msg)
{
	const char *v;

	for (const char *q = msg; *q; q++) {
		char *end;
		long n;

		if (q[0] != 'R' || !isdigit((unsigned char)q[1]) || (q > msg && isalnum((unsigned char)q[-1])))
			continue;
		n = strtol(q + 1, &end, 10);
		if (n < NREGS && (*end == ' ' || *end == '(' || *end == 0 || reg_token(q, &v) >= 0))
			return (int)n;
	}
	return -1;
}

/*
 * The type of the register the failure is about, as the failing instruction
 * met it: the same words ("value is outside of the allowed memory range")
 * come from a packet access and a map value's.  The message names the
 * register; else the instruction's memory operand "(r6 +0)" does.
 */
static void failing_type(struct parse *p)
{
	struct verify_log *o = p->out;
	const char *mem = strstr(o->insn_text, "(r");
	int n = named_reg(o->reason);

	if (n < 0)
		n = named_reg(o->detail);
	if (n < 0 && mem && isdigit((unsigned char)mem[2]))
		n = atoi(mem + 2);
	if (o->insn >= 0 && n >= 0 && n < NREGS)
		copy(o->reg_type, sizeof(o->reg_type), p->met[n], strlen(p->met[n]));
}

void verify_parse_log(const char *log, struct verify_log *out)
{
	struct parse *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	memset(out, 0, sizeof(*out));
	out->insn = out->ref_insn = -1;
	p->out = out;
	p->ref_alloc = -1;
	while (log && *log) {
		const char *nl = strchr(log, '\n');
		size_t len = nl ? (size_t)(nl - log) : strlen(log);
		char line[1024];

		copy(line, sizeof(line), log, len);
		parse_line(p, line, strlen(line));
		log += len + (nl != NULL);
	}
	if (p->ref_alloc >= 0) {
		out->ref_insn = p->ref_alloc;
		for (int i = 0; i < p->nseen; i++)
			if (p->seen[i].insn == p->ref_alloc) {
				copy(out->ref_file, sizeof(out->ref_file), p->seen[i].file, strlen(p->seen[i].file));
				out->ref_line = p->seen[i].line;
			}
	}
	failing_type(p);
	/* "back-edge from insn X to Y" comes before any trace: X is the instruction. */
	if (out->insn < 0 && strstr(out->reason, "back-edge from insn "))
		out->insn = atoi(strstr(out->reason, "insn ") + 5);
	free(p);
}

/* ---- the reason in words ---- */

static const struct {
	const char *pattern;     /* an extended regex on the verifier's message */
	const char *words;       /* %s: the regex's first group */
} reasons[] = {
	{ "invalid mem access 'map_value_or_null'",
	  "the map value may be NULL here: check the lookup's result before using it" },
	{ "invalid mem access '(ptr_or_null_|[a-z_]*_or_null)",
	  "this pointer may be NULL here: check it against null before using it" },
	{ "invalid mem access '(scalar|inv)'",
	  "this reads through a number, not a pointer the verifier can check" },
	{ "Unreleased reference",
	  "a reference taken in this function is not released on this path: release it (or hand it on) before returning" },
	{ "invalid access to packet|offset is outside of the packet",
	  "this reads the packet beyond what the program checked against data_end" },
	{ "back-edge from insn|infinite loop detected|loop is not bounded",
	  "this loop has no bound the verifier can prove: give it one (for i in 0..N)" },
	{ "combined stack size|stack size .* Too large|invalid stack off",
	  "the call chain needs more than 512 bytes of stack: keep large values in a map" },
	{ "unknown func ([a-z_0-9]+)", "this program type may not call the helper %s" },
	{ "program of this type cannot use helper ([a-z_0-9]+)", "this program type may not call the helper %s" },
	{ "calling kernel function ([a-z_0-9]+) is not allowed",
	  "this program type may not call the kfunc %s" },
	{ "metadata kfuncs require device-bound program",
	  "XDP metadata kfuncs work only in an XDP program bound to a device" },
	{ "invalid (indirect )?read from stack|uninit",
	  "this reads stack memory that was never written: give the value a start" },
	{ "!read_ok", "this reads a value that was never set" },
	{ "dereference of modified ctx ptr",
	  "this reads the context through a pointer moved off its start: read the fields of ctx itself" },
	{ "invalid bpf_context access",
	  "this program type may not access this context field this way" },
	{ "invalid access to map value|value is outside of the allowed memory range",
	  "this index reaches outside the map value: check it against the array's size first" },
	{ "R[1-5] unbounded memory access",
	  "the size or offset given to this call has no bound the verifier can prove: check it against the buffer's size first" },
	{ "invalid (indirect )?write to stack|invalid indirect access to stack",
	  "this call writes past the end of a buffer on the stack: pass at most the buffer's size" },
	{ "unbounded memory access|min value is negative|unbounded min value|math between .* pointer",
	  "this index has no bound the verifier can prove: check it against the array's size first" },
	{ "too large|too complex|BPF program is too large",
	  "the program is too large or has too many paths for the verifier: split it into functions or tail calls" },
};

/*
 * Messages whose words depend on what the failing register points to, tried
 * first: 7.3 words a variable packet offset as any memory's range ("R6 min
 * value is outside of the allowed memory range"), which the table above
 * reads as a map value's.
 */
static const struct {
	const char *type;        /* the failing register's type (verify.h) */
	const char *pattern;
	const char *words;
} typed_reasons[] = {
	{ "pkt", "value is outside of the allowed memory range",
	  "this reads the packet beyond what the program checked against data_end" },
};

/* words when pattern matches text (its %s the first group, into buf), else NULL. */
static const char *match(const char *pattern, const char *words, const char *text, char *buf, unsigned size)
{
	regex_t re;
	regmatch_t m[2];
	char name[128] = "";
	int hit;

	if (regcomp(&re, pattern, REG_EXTENDED))
		return NULL;
	hit = !regexec(&re, text, 2, m, 0);
	regfree(&re);
	if (!hit)
		return NULL;
	if (!strstr(words, "%s"))
		return words;
	if (m[1].rm_so >= 0)
		copy(name, sizeof(name), text + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
	snprintf(buf, size, words, name);
	return buf;
}

const char *verify_words(const struct verify_log *l, char *buf, unsigned size)
{
	char text[700];
	const char *w;

	snprintf(text, sizeof(text), "%s %s", l->reason, l->detail);
	for (size_t i = 0; i < sizeof(typed_reasons) / sizeof(typed_reasons[0]); i++)
		if (!strcmp(typed_reasons[i].type, l->reg_type) &&
		    (w = match(typed_reasons[i].pattern, typed_reasons[i].words, text, buf, size)))
			return w;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if ((w = match(reasons[i].pattern, reasons[i].words, text, buf, size)))
			return w;
	return l->reason[0] ? l->reason : "(the log gives no reason)";
}
