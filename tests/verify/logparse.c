/*
 * logparse LOG [OBJ PROG]: what runtime/verify's parser reads from a
 * verifier log, one field a line, and the reason in words: for
 * tests/verify/t-verify.sh to check the log shapes this host cannot produce
 * (6.1's, 7.3's) from files.  With the eBPF object OBJ the log came from and
 * its program PROG, also the line the object's line info gives the failing
 * instruction (what ksc verify uses when the log names none, as 6.1's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

int main(int argc, char **argv)
{
	static char text[1 << 20];
	struct verify_log l;
	char words[400], file[256];
	int line;
	size_t n;
	FILE *f;

	if ((argc != 2 && argc != 4) || !(f = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: logparse LOG [OBJ PROG]\n");
		return 2;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	verify_parse_log(text, &l);
	printf("insn: %d\ninsn_text: %s\nregs: %s\nreg_type: %s\nat: %s:%d\nref: %d %s:%d\nreason: %s\n"
	       "detail: %s\nsuggestion: %s\nwords: %s\n", l.insn, l.insn_text, l.regs, l.reg_type, l.file,
	       l.line, l.ref_insn, l.ref_file, l.ref_line, l.reason, l.detail, l.suggestion,
	       verify_words(&l, words, sizeof(words)));
	if (argc == 4) {
		/* The object names the file by its whole path, the log by its base name. */
		if (verify_insn_line(argv[2], argv[3], l.insn, file, sizeof(file), &line))
			printf("object: none\n");
		else
			printf("object: %s:%d\n", strrchr(file, '/') ? strrchr(file, '/') + 1 : file, line);
	}
	return 0;
}
