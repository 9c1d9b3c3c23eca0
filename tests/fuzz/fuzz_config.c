/*
 * libFuzzer target for the controller's config loader: arbitrary bytes
 * must give a config or located errors, never a crash, leak or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct config *cfg = NULL;
	int rc;
	size_t i;

	rc = config_load_buffer(&cfg, "fuzz.yaml", (const char *)data, size,
				&diags);
	if ((rc < 0) != (cfg == NULL) || (rc < 0) != (diags.n > 0))
		abort();
	for (i = 0; i < diags.n; i++)
		if (strcmp(diags.items[i].file, "fuzz.yaml") ||
		    !diags.items[i].msg[0])
			abort();
	config_free(cfg);
	diag_release(&diags);
	return 0;
}
