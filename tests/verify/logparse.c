/*
 * logparse LOG: what runtime/verify's parser reads from a verifier log, one
 * field a line, and the reason in words: for tests/verify/t-verify.sh to
 * check the log shapes this host cannot produce (6.1's, 7.3's) from files.
 */
#include <stdio.h>
#include <stdlib.h>

#include "verify.h"

int main(int argc, char **argv)
{
	static char text[1 << 20];
	struct verify_log l;
	char words[400];
	size_t n;
	FILE *f;

	if (argc != 2 || !(f = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: logparse LOG\n");
		return 2;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	verify_parse_log(text, &l);
	printf("insn: %d\ninsn_text: %s\nregs: %s\nat: %s:%d\nref: %d %s:%d\nreason: %s\ndetail: %s\n"
	       "suggestion: %s\nwords: %s\n", l.insn, l.insn_text, l.regs, l.file, l.line, l.ref_insn,
	       l.ref_file, l.ref_line, l.reason, l.detail, l.suggestion, verify_words(&l, words, sizeof(words)));
	return 0;
}
