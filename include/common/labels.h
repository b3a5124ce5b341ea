/*
 * labels: the Chinese and English words shown for the interface names
 * of DESIGN.md — filing types, states, actor kinds, channels, modes.
 *
 * The names (firstFiling, awaiting_verification, …) stay the interface:
 * the CLI, receipts and JSON print them as they are.  People read the
 * labels: the staff console shows each as "首次备案 firstFiling", the
 * mails as "首次备案（firstFiling）" in the Chinese part and
 * "first filing (firstFiling)" in the English one.  One table serves
 * both, so the console and the mails never disagree.
 */
#ifndef BEIAND_LABELS_H
#define BEIAND_LABELS_H

#include <stddef.h>

enum label_set {
	LABEL_TYPE,    /* firstFiling, addSite, cancelSite, cancelAccess */
	LABEL_STATE,   /* received … withdrawn */
	LABEL_ACTOR,   /* owner, provider, bureau, system, operator */
	LABEL_CHANNEL, /* spool, mail, cli, web */
	LABEL_MODE     /* self, delegated */
};

/* The Chinese / English label of name in set; NULL when name is not one
 * of the set's names (NULL name included). */
const char *label_zh(enum label_set set, const char *name);
const char *label_en(enum label_set set, const char *name);

/*
 * "首次备案（firstFiling）" (zh) or "first filing (firstFiling)" (en)
 * into buf; an unknown name is written as it is.  Returns buf.
 */
char *label_with_name(enum label_set set, const char *name, int zh,
    char *buf, size_t size);

#endif
