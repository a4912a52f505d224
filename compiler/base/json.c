/* The JSON writer (json.h). */
#include "json.h"

#include <stdlib.h>

void json_init(struct json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
}

/* Before any value or key: the comma that separates it from the one before. */
static void separate(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
}

static void push(struct json *j, char c)
{
	separate(j);
	fputc(c, j->out);
	/* Deeper than any output of ours: a programming error, not input. */
	if (j->depth + 1 == JSON_MAX_DEPTH)
		abort();
	j->first[++j->depth] = true;
}

static void pop(struct json *j, char c)
{
	j->depth--;
	fputc(c, j->out);
}

void json_begin_object(struct json *j)
{
	push(j, '{');
}

void json_end_object(struct json *j)
{
	pop(j, '}');
}

void json_begin_array(struct json *j)
{
	push(j, '[');
}

void json_end_array(struct json *j)
{
	pop(j, ']');
}

/* A JSON string: quotes, backslash and control characters escaped (RFC 8259). */
static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void json_key(struct json *j, const char *key)
{
	separate(j);
	put_string(j->out, key);
	fputc(':', j->out);
	j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
	separate(j);
	if (s)
		put_string(j->out, s);
	else
		fputs("null", j->out);
}

void json_int(struct json *j, long long v)
{
	separate(j);
	fprintf(j->out, "%lld", v);
}

void json_uint(struct json *j, unsigned long long v)
{
	separate(j);
	fprintf(j->out, "%llu", v);
}

void json_bool(struct json *j, bool v)
{
	separate(j);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j)
{
	separate(j);
	fputs("null", j->out);
}

void json_finish(struct json *j)
{
	fputc('\n', j->out);
}

void json_kv_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_kv_uint(struct json *j, const char *key, unsigned long long v)
{
	json_key(j, key);
	json_uint(j, v);
}

void json_kv_int(struct json *j, const char *key, long long v)
{
	json_key(j, key);
	json_int(j, v);
}
