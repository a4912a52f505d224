/* Target of each function, decided once from its role. */
#ifndef KSC_TARGET_H
#define KSC_TARGET_H

#include "ast.h"

enum target target_of_role(enum func_role r);

#endif
