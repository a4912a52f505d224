/* ksc's own standard headers (compiler/include/NAME.kh), embedded at build time. */
#ifndef KSC_STDHEADERS_H
#define KSC_STDHEADERS_H

struct ks_stdheader {
	const char *name;
	const char *text;
};

/* Terminated by an entry whose name is NULL. */
extern const struct ks_stdheader ks_stdheaders[];

#endif
