/*
 * probe: what `beianctl probe imap|smtp` reports of one connection made
 * as the daemon makes it (smtp_probe(), imap_probe()).  Every text is
 * filled as far as the connection got ("" where it did not), cleaned of
 * control bytes, and never holds a password.
 */
#ifndef BEIAND_PROBE_H
#define BEIAND_PROBE_H

#include "common/tls_policy.h"

#define PROBE_TEXT 1024

struct mail_probe {
	struct tls_policy tls;       /* the resolved policy used */
	unsigned port;
	int connected;               /* the server greeted */
	int starttls_offered;        /* STARTTLS in its capabilities */
	int encrypted;               /* the session went over TLS */
	char tls_version[32];        /* "TLS1.3" */
	char subject[256];           /* of the server's certificate */
	char pin[TLS_PIN_SIZE];      /* its public key, sha256//BASE64 */
	char verify[PROBE_TEXT];     /* the chain check: "ok", "not checked
	                                (tls = may)", or why it failed */
	char pin_check[64];          /* "no tls_pin", "matches", "does not
	                                match" */
	char login[PROBE_TEXT];      /* LOGIN / AUTH: "ok", "refused: …",
	                                "not attempted: …" */
	char mailbox[PROBE_TEXT];    /* IMAP: the mailbox; SMTP: MAIL FROM */
	char sandbox[96];            /* IMAP: the confinement taken before
	                                connecting ("" for SMTP) */
	int usable;                  /* the daemon could use the server */
	char reason[PROBE_TEXT];     /* why not, when not */
};

#endif
