/* `ksc package`: one Debian package per extension (runtime/package/cmd_package.c). */
#ifndef KSC_PACKAGE_H
#define KSC_PACKAGE_H

#include <stdio.h>

int do_package(int argc, char **argv);
void help_package(FILE *out);

#endif
