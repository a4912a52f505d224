/*
 * A small streaming JSON writer for the commands' --json output (status,
 * kfuncs): it places the commas and colons and escapes strings, so every
 * caller writes well-formed JSON by construction.
 */
#ifndef KSC_JSON_H
#define KSC_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *out;
	int depth;
	bool first[JSON_MAX_DEPTH]; /* nothing written yet at that level */
	bool after_key;             /* a key was written: the value follows, no comma */
};

void json_init(struct json *j, FILE *out);
void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
/* An object member's name: the next value is its value. */
void json_key(struct json *j, const char *key);
/* A string value, or null when s is NULL. */
void json_string(struct json *j, const char *s);
void json_int(struct json *j, long long v);
void json_uint(struct json *j, unsigned long long v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Ends the document with a newline. */
void json_finish(struct json *j);

/* key and value at once, the common case. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_uint(struct json *j, const char *key, unsigned long long v);
void json_kv_int(struct json *j, const char *key, long long v);

#endif
