/* Shared by the files of the module backend. */
#ifndef KSC_KMODGEN_INTERNAL_H
#define KSC_KMODGEN_INTERNAL_H

#include "ast.h"

int kmod_write_c(struct program *prog, const char *path);
int kmod_write_files(struct program *prog, const char *dir);

#endif
