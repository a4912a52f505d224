/* Command-line commands: each `do_X` returns the exit status (0, 1 or 2). */
#ifndef KSC_CLI_H
#define KSC_CLI_H

#include <stdio.h>

#include "util.h"

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*help)(FILE *out);
	const char *summary;
};

/* Exit statuses of the command-line contract. */
enum { EXIT_OK = 0, EXIT_USER = 1, EXIT_USAGE = 2 };

struct arena;
struct program;
struct kernel;

/*
 * Loads and checks one .ks file with everything it includes and imports,
 * module checks included, against the kernel k; prints its diagnostics.
 * Returns the exit status; *out (if given) is the program, or NULL when it
 * has errors.
 */
int check_file(const char *path, struct kernel *k, struct arena *a, struct program **out);

int do_check(int argc, char **argv);
void help_check(FILE *out);
int do_compile(int argc, char **argv);
void help_compile(FILE *out);
int do_build(int argc, char **argv);
/* ksc compile FILE into DIR (with --btf BTF unless NULL), then make there: the exit status. */
int compile_and_make(const char *file, const char *dir, const char *btf);
void help_build(FILE *out);
int do_kmod(int argc, char **argv);
void help_kmod(FILE *out);
int do_install(int argc, char **argv);
void help_install(FILE *out);
int do_uninstall(int argc, char **argv);
void help_uninstall(FILE *out);
int do_status(int argc, char **argv);
void help_status(FILE *out);
int do_kfuncs(int argc, char **argv);
void help_kfuncs(FILE *out);
int do_call(int argc, char **argv);
void help_call(FILE *out);
int do_test(int argc, char **argv);
void help_test(FILE *out);
int do_verify(int argc, char **argv);
void help_verify(FILE *out);
int do_init(int argc, char **argv);
void help_init(FILE *out);

#endif
